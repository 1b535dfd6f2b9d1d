"""Probe 13, the schema: schemathesis found 13 schema mismatches (only 200s documented, no
bounds on page/page_size, an empty review= the schema allowed).

Now schemathesis generates requests from the served schema for every operation and calls
the WSGI app with a real service-account token: no server error, every status code,
content type and body as documented. Bounded: MAX_EXAMPLES per operation, derandomized
(the same cases on every run), a deadline per example.
"""

from __future__ import annotations

from datetime import date

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from reporting.api.accounts import service_account_create
from tests.factory import initiative, make_indicator, make_online_procedure, make_progress

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 25
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def api_token(personas, settings):
    """A token reading everything, with some data to read; rate limits off (each operation
    makes more calls than a minute's allowance; tests/security/test_api_tokens.py tests them)."""
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_token": None, "api_address": None},
    }
    ini = initiative("2.1")
    make_progress(ini, status="on_track", percent=40, entry_date=date(2026, 6, 1))
    make_indicator(ini)
    make_online_procedure(1, online_on=date(2022, 6, 1))
    return service_account_create(
        actor=personas.secretariat, username="bi-fuzz", display_name="検査", working_group=None
    )[1]


OPERATIONS = [
    "/api/v1/summary/",
    "/api/v1/initiatives/",
    "/api/v1/initiatives/{code}/",
    "/api/v1/procedures/",
    "/api/v1/systems/",
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Django's WSGI handler closes "old" connections at each request's start and end,
    and a connection inside the test's transaction counts as old: on PostgreSQL the next
    query would fail. Django's own test client disconnects that handler; so does this."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _schema(token: str):
    """The schema as the API serves it, bound to the WSGI app (calls go to the app, in
    this process and this test's database transaction)."""
    return schemathesis.openapi.from_wsgi(
        "/api/v1/schema/?format=json",
        get_wsgi_application(),
        headers={"Authorization": f"Token {token}"},
    )


def test_every_operation_is_fuzzed(api_token):
    served = {operation.ok().path for operation in _schema(api_token).get_all_operations()}
    assert served == set(OPERATIONS)


# (schemathesis's own pytest plugin, schema.parametrize(), does not run on pytest 9.2: it
# sets a node attribute pytest removed. Hypothesis drives each operation's strategy here.)
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize("path", OPERATIONS)
def test_the_api_answers_as_its_schema_says(api_token, path, mode):
    """Valid requests (positive) and requests the schema refuses (negative: the API must
    refuse them too, with a documented 4xx)."""
    operation = _schema(api_token)[path]["GET"]
    headers = {"Authorization": f"Token {api_token}"}
    checks = CHECKS if mode is GenerationMode.POSITIVE else [*CHECKS, negative_data_rejection]

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=5000,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def call(case):
        case.call_and_validate(headers=headers, checks=checks)

    call()
