"""Probes 9 and 13, the API's part: `?page_size=²` (or ①) answered 500 (`isdigit()` accepts,
`int()` fails), and a session POST to /api/v1/* answered 415 where the README says 405.

Now every numeric query parameter is ASCII digits within its bounds (portal_lib.params),
else a 400 that says why; and every write answers 405, whoever sends it, in any format.
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from initiatives.models import Initiative
from kahoku_dx.middleware import CONTROL_CHARACTER_MESSAGE
from portal_lib.params import parse_ascii_int
from tests.api.conftest import session_client

pytestmark = pytest.mark.django_db

URLS = [
    "/api/v1/summary/",
    "/api/v1/initiatives/",
    "/api/v1/initiatives/2.1/",
    "/api/v1/procedures/",
    "/api/v1/systems/",
    "/api/v1/schema/",
]
LISTS = ["/api/v1/initiatives/", "/api/v1/procedures/", "/api/v1/systems/"]
NOT_ASCII_NUMBERS = ["²", "①", "٣", "３", " 3", "+3", "1_0", "3\n", "1e2", "9" * 19]


def _refused(param, message, value):
    """The 400 body for ``value``: a control character is refused at the edge for every
    parameter alike (kahoku_dx.middleware), anything else by the parameter's own check."""
    if "\n" in value:
        return {"non_field_errors": [str(CONTROL_CHARACTER_MESSAGE)]}
    return {param: [message]}


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("value", NOT_ASCII_NUMBERS)
def test_page_size_that_is_not_ascii_digits_is_a_400(personas, url, value):
    response = session_client(personas.hq).get(url, {"page_size": value})
    assert response.status_code == 400
    assert response.json() == _refused(
        "page_size", f"page_size は1から200までの整数で指定してください(「{value}」)。", value
    )


@pytest.mark.parametrize("value", NOT_ASCII_NUMBERS + ["0", "1000001"])
def test_page_that_is_not_a_page_number_is_a_400(personas, value):
    response = session_client(personas.hq).get("/api/v1/initiatives/", {"page": value})
    assert response.status_code == 400
    assert response.json() == _refused(
        "page", f"page は1から1000000までの整数で指定してください(「{value}」)。", value
    )


def test_numbers_in_ascii_still_work(personas):
    client = session_client(personas.hq)
    body = client.get("/api/v1/initiatives/", {"page_size": "05", "page": "2"}).json()
    assert (body["count"], len(body["results"])) == (13, 5)
    assert client.get("/api/v1/initiatives/", {"page": "1000000"}).status_code == 404


@pytest.mark.parametrize("param", ["policy", "working_group"])
@pytest.mark.parametrize("value", ["²", "①", "٣", " 3", "1_0", "0", "2147483648"])
def test_filters_take_ascii_numbers_only(personas, param, value):
    response = session_client(personas.hq).get("/api/v1/initiatives/", {param: value})
    assert response.status_code == 400
    assert list(response.json()) == [param]


@pytest.mark.parametrize("param", ["status", "review"])
def test_an_empty_choice_is_refused_as_the_schema_says(personas, param):
    response = session_client(personas.hq).get("/api/v1/initiatives/", {param: ""})
    assert response.status_code == 400
    assert list(response.json()) == [param]


def test_parse_ascii_int():
    assert parse_ascii_int("", default=7) == 7
    assert parse_ascii_int(None, default=None) is None
    assert parse_ascii_int("0042", minimum=1, maximum=50) == 42
    for bad in ("²", "①", "٣", "-1", "4.0", "0x1", "9" * 19):
        with pytest.raises(ValueError):
            parse_ascii_int(bad)
    with pytest.raises(ValueError):
        parse_ascii_int("51", maximum=50)
    with pytest.raises(ValueError):
        parse_ascii_int("0", minimum=1)


# --- writes: 405 before anything reads the body -------------------------------------------------


def _browser_session(personas) -> tuple[APIClient, str]:
    """Logged in as a browser is, with the CSRF cookie and token a portal form would send."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(personas.secretariat)
    client.get("/")
    return client, client.cookies["csrftoken"].value


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_form_write_with_a_session_answers_405_not_415(personas, url, method):
    client, csrf = _browser_session(personas)
    count = Initiative.objects.count()
    response = getattr(client, method)(
        url,
        f"csrfmiddlewaretoken={csrf}&title=x",
        content_type="application/x-www-form-urlencoded",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert response.status_code == 405
    # (The schema answers in its own format, YAML; the message is the same.)
    body = response.content.decode()  # JSON, or YAML for the schema: the same message
    assert "メソッド" in body and method.upper() in body and "は許されていません。" in body
    assert Initiative.objects.count() == count


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x"])
def test_any_body_format_answers_405(personas, content_type):
    client, csrf = _browser_session(personas)
    response = client.post(
        "/api/v1/initiatives/", b"--x--", content_type=content_type, HTTP_X_CSRFTOKEN=csrf
    )
    assert response.status_code == 405
