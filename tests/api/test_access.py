"""Who reads what through the API: the screens' rules for people, the given scope for
service accounts; anonymous 401, outside the scope 404, unsafe methods 405."""

from __future__ import annotations

from datetime import date

import pytest
from rest_framework.test import APIClient

from initiatives.models import Initiative, OnlineProcedure
from reporting.api.accounts import (
    service_account_create,
    service_account_token_regenerate,
    service_account_token_revoke,
)
from tests.api.conftest import session_client, token_client
from tests.factory import PLAN_CODE, initiative, make_online_procedure, make_progress

pytestmark = pytest.mark.django_db

ENDPOINTS = {
    "summary": "/api/v1/summary/",
    "initiatives": "/api/v1/initiatives/",
    "detail": "/api/v1/initiatives/2.1/",
    "procedures": "/api/v1/procedures/",
    "systems": "/api/v1/systems/",
    "schema": "/api/v1/schema/",
}
ALL_OK = dict.fromkeys(ENDPOINTS, 200)
# The dashboard is for the secretariat and 推進本部; every member of staff reads the rest.
STAFF = {**ALL_OK, "summary": 403}

PERSONA_STATUS = {
    "secretariat": ALL_OK,
    "hq": ALL_OK,
    "leader": STAFF,
    "member": STAFF,
    "other_member": STAFF,
    "viewer": STAFF,
}


@pytest.mark.parametrize("persona", PERSONA_STATUS)
def test_every_endpoint_for_every_persona(personas, persona):
    client = session_client(getattr(personas, persona))
    got = {name: client.get(url).status_code for name, url in ENDPOINTS.items()}
    assert got == PERSONA_STATUS[persona]


def test_refusal_explains_in_japanese(personas):
    response = session_client(personas.member).get(ENDPOINTS["summary"])
    assert response.json()["detail"].startswith("計画全体の集計は事務局・推進本部")


@pytest.mark.parametrize("url", [*ENDPOINTS.values(), "/api/v1/initiatives/9.9/"])
def test_anonymous_is_refused_with_401(db, url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    # The schema answers in its own format (YAML); the message is the same.
    assert "認証情報が含まれていません。" in response.content.decode()


def test_anonymous_docs_page_sends_to_login(db):
    response = APIClient().get("/api/v1/docs/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_deactivated_staff_and_their_session_are_refused(personas):
    client = session_client(personas.member)
    personas.member.is_active = False
    personas.member.save()
    assert client.get(ENDPOINTS["initiatives"]).status_code == 401


def test_wrong_or_malformed_token_is_refused(db):
    assert token_client("0" * 40).get(ENDPOINTS["initiatives"]).status_code == 401
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer abc")
    assert client.get(ENDPOINTS["initiatives"]).status_code == 401


# --- unsafe methods ------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("url", ENDPOINTS.values())
def test_unsafe_methods_answer_405(hq_account, method, url):
    count = Initiative.objects.count()
    response = getattr(token_client(hq_account[1]), method)(url, {"title": "x"}, format="json")
    assert response.status_code == 405
    assert Initiative.objects.count() == count


@pytest.mark.parametrize("method", ["post", "delete"])
def test_unsafe_methods_by_session_answer_405_too(personas, method):
    client = session_client(personas.secretariat)
    response = getattr(client, method)(ENDPOINTS["detail"], {}, format="json")
    assert response.status_code == 405
    assert "許されていません" in response.json()["detail"]


def test_session_post_without_csrf_token_is_refused_in_japanese(personas):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(personas.secretariat)
    response = client.post(ENDPOINTS["initiatives"], {}, format="json")
    assert response.status_code == 403
    assert "送信を受け付けできませんでした。" in response.json()["detail"]


def test_anonymous_post_is_401_not_405(db):
    assert APIClient().post(ENDPOINTS["initiatives"], {}).status_code == 401


# --- tokens --------------------------------------------------------------------------------


def test_token_of_an_everything_account_reads_everything(hq_account):
    client = token_client(hq_account[1])
    assert {name: client.get(url).status_code for name, url in ENDPOINTS.items()} == ALL_OK
    assert client.get(ENDPOINTS["initiatives"]).json()["count"] == 13


def test_revoked_token_is_refused(personas, hq_account):
    account, key = hq_account
    client = token_client(key)
    assert client.get(ENDPOINTS["initiatives"]).status_code == 200
    service_account_token_revoke(actor=personas.secretariat, account=account)
    response = client.get(ENDPOINTS["initiatives"])
    assert response.status_code == 401
    assert response.json()["detail"] == "不正なトークンです。"


def test_regenerated_token_replaces_the_old_one(personas, hq_account):
    account, old = hq_account
    new = service_account_token_regenerate(actor=personas.secretariat, account=account)
    assert new != old
    assert token_client(old).get(ENDPOINTS["initiatives"]).status_code == 401
    assert token_client(new).get(ENDPOINTS["initiatives"]).status_code == 200


def test_token_of_a_deactivated_account_is_refused(hq_account):
    account, key = hq_account
    account.is_active = False
    account.save()
    assert token_client(key).get(ENDPOINTS["initiatives"]).status_code == 401


def test_a_service_account_cannot_log_in_to_the_screens(hq_account):
    account, key = hq_account
    assert not account.has_usable_password()
    response = APIClient().post("/accounts/login/", {"username": account.username, "password": key})
    assert response.status_code == 200  # the form again, with its error; no redirect
    assert "_auth_user_id" not in response.wsgi_request.session


# --- scope ---------------------------------------------------------------------------------


def _codes(client, **params):
    body = client.get(ENDPOINTS["initiatives"], {"page_size": 200, **params}).json()
    return sorted(r["code"] for r in body["results"])


def test_wg_account_sees_only_its_wg(personas, wg_account):
    client = token_client(wg_account[1])
    mine = sorted(
        i.code
        for i in Initiative.objects.filter(
            policy__plan__code=PLAN_CODE, working_group=personas.wg
        ).select_related("policy")
    )
    assert _codes(client) == mine and len(mine) < 13
    assert client.get(ENDPOINTS["detail"]).status_code == 200  # 2.1 is 情報推進課WG's
    other = initiative("3.2")  # 総務課WG
    response = client.get(f"/api/v1/initiatives/{other.code}/")
    assert response.status_code == 404
    assert response.json()["detail"] == "取り組みが見つかりません。"
    # Filtering by another WG does not widen the scope.
    assert _codes(client, working_group=personas.other_wg.pk) == []
    # The plan-wide summary is HQ level.
    assert client.get(ENDPOINTS["summary"]).status_code == 403


def test_wg_account_sees_countable_targets_only_when_they_are_its_wg(personas, wg_account):
    make_online_procedure(1, online_on=date(2022, 6, 1))
    # Both targets belong to initiatives of 情報推進課WG (2.1 and 3.1).
    mine = token_client(wg_account[1])
    assert mine.get(ENDPOINTS["procedures"]).json()["count"] == OnlineProcedure.objects.count()
    assert mine.get(ENDPOINTS["systems"]).json()["count"] == 20
    _, key = service_account_create(
        actor=personas.secretariat,
        username="bi-somu",
        display_name="総務課",
        working_group=personas.other_wg,
    )
    other = token_client(key)
    for name in ("procedures", "systems"):
        body = other.get(ENDPOINTS[name]).json()
        assert (body["count"], body["results"]) == (0, [])


def test_member_of_another_wg_sees_what_the_screen_shows(personas):
    make_progress(initiative("2.1"), status="on_track", percent=60)
    screen = session_client(personas.other_member).get("/initiatives/", {"fy": "2026"})
    on_screen = sorted(i.code for i in screen.context["initiatives"])
    assert _codes(session_client(personas.other_member), fiscal_year="2026") == on_screen
    assert len(on_screen) == 13


def test_nonexistent_code_is_404_for_everyone(personas):
    client = session_client(personas.secretariat)
    for code in ("9.9", "abc", "2.1.1", "2"):
        assert client.get(f"/api/v1/initiatives/{code}/").status_code == 404
