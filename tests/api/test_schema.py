"""The OpenAPI 3 schema validates, documents every endpoint, and the docs page is local."""

from __future__ import annotations

import re

import pytest
import yaml
from django.core.management import call_command

from tests.api.conftest import session_client

pytestmark = pytest.mark.django_db


def test_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    # --fail-on-warn: an endpoint drf-spectacular cannot describe fails the build.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert schema["openapi"].startswith("3.")
    assert set(schema["paths"]) == {
        "/api/v1/summary/",
        "/api/v1/initiatives/",
        "/api/v1/initiatives/{code}/",
        "/api/v1/procedures/",
        "/api/v1/systems/",
    }
    for path, operations in schema["paths"].items():
        assert set(operations) == {"get"}, f"{path} offers more than GET"
    summary = schema["components"]["schemas"]["Summary"]["properties"]
    assert summary["progress_percent"] == {"type": "number", "format": "double", "nullable": True}
    indicator = schema["components"]["schemas"]["Indicator"]["properties"]
    assert indicator["target"]["type"] == "number"
    assert schema["components"]["schemas"]["GradeEnum"]["enum"] == ["A", "B", "C", "D", "ungraded"]
    assert set(schema["components"]["securitySchemes"]) == {"tokenAuth", "cookieAuth"}


def test_schema_endpoint_serves_json_to_staff(personas):
    response = session_client(personas.viewer).get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    assert response.json()["info"]["title"] == "かほく市DX推進計画 進捗管理ポータル API"


def test_docs_page_uses_only_local_files_and_no_inline_script(personas):
    client = session_client(personas.viewer)
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="ja">' in html
    srcs = re.findall(r'<script[^>]*src="([^"]+)"', html)
    assert len(srcs) == 3 and all(s.startswith("/") for s in srcs)
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in srcs
    assert not re.search(r"<script(?![^>]*src=)[^>]*>", html), "inline script"
    assert "<style" not in html and "cdn" not in html.lower()
    script = client.get(srcs[-1])
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in script.content.decode()


def test_schema_documents_errors_and_bounds(tmp_path):
    """Probe 13: the schema documented only the 200s and no bounds on page/page_size."""
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text(encoding="utf-8"))
    for path, operations in schema["paths"].items():
        responses = operations["get"]["responses"]
        assert {"200", "400", "401", "403", "404", "429"} <= set(responses), path
        assert responses["401"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
        assert "Retry-After" in responses["429"]["headers"]
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail"]
    params = {
        p["name"]: p["schema"] for p in schema["paths"]["/api/v1/initiatives/"]["get"]["parameters"]
    }
    assert params["page"] == {"type": "integer", "minimum": 1, "maximum": 1000000}
    assert params["page_size"] == {"type": "integer", "minimum": 1, "maximum": 200}
    assert params["policy"]["maximum"] == params["working_group"]["maximum"] == 2**31 - 1
    assert params["review"]["minLength"] == 1 and "" not in params["review"]["enum"]
    code = schema["paths"]["/api/v1/initiatives/{code}/"]["get"]["parameters"][0]
    assert code["schema"]["pattern"] == r"^[0-9]{1,4}\.[0-9]{1,4}$"
