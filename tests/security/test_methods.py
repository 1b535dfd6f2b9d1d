"""Issue 19 item 13 (screens): 405 for every method a view does not serve.

PUT and DELETE used to answer 200 on /, /initiatives/<pk>/, /initiatives/reviews/<pk>/ and
the procedure, system and staff lists: a function view without a method decorator served
any method as GET. Now kahoku_dx.middleware.ScreenMethodMiddleware refuses every method but
GET, HEAD and POST on every screen, with an Allow header naming what the view serves, and
the pages that only show refuse POST too (``require_safe``). The JSON API under /api/
answers its own methods (DRF).
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.pages import test_permissions_walk as walk
from tests.pages.test_permissions_walk import Route

# The every-URL walk's fixtures: its sample objects and every URL of the URLconf, built.
samples = walk.samples
built = walk.built

pytestmark = pytest.mark.django_db

NOT_SERVED = ("PUT", "PATCH", "DELETE")
SCREEN_METHODS = {"GET", "HEAD", "POST"}
PAGE_TEXT = "このページではこの操作はできません。"


def _is_api(route: Route) -> bool:
    return route.route.startswith("api/")


def _allow(response) -> set[str]:
    return {m.strip() for m in response["Allow"].split(",") if m.strip()}


def test_every_screen_url_refuses_put_patch_and_delete_with_405_and_allow(personas, built):
    screens = [(route, url) for route, url in built if not _is_api(route)]
    # Guard the walk: the pages of the report are in it, and it is the whole URLconf.
    names = {route.name for route, _ in screens}
    assert {
        "home",
        "initiatives:detail",
        "initiatives:review",
        "initiatives:procedures",
        "initiatives:systems",
        "workgroups:staff_list",
        "admin:index",
    } <= names
    assert len(screens) > 200
    client = Client(raise_request_exception=False)
    client.force_login(personas.secretariat)
    problems = []
    for route, url in screens:
        for method in NOT_SERVED:
            response = client.generic(method, url, "x=1", "application/x-www-form-urlencoded")
            where = f"{method} {url} ({route.label}) -> {response.status_code}"
            if response.status_code != 405:
                problems.append(where)
            elif not response.has_header("Allow"):
                problems.append(f"{where} without Allow")
            elif method in _allow(response) or not _allow(response) <= SCREEN_METHODS:
                problems.append(f"{where} with Allow: {response['Allow']}")
            elif PAGE_TEXT not in response.content.decode():
                problems.append(f"{where} without the Japanese page")
    assert problems == []


def _named_pages(samples) -> list[str]:
    return [
        reverse("home"),
        reverse("initiatives:detail", args=[samples.initiative.pk]),
        reverse("initiatives:review", args=[samples.review.pk]),
        reverse("initiatives:procedures"),
        reverse("initiatives:systems"),
        reverse("workgroups:staff_list"),
    ]


def test_the_reported_pages_refuse_put_and_delete_and_name_get_and_head(personas, samples):
    client = Client()
    client.force_login(personas.secretariat)
    for url in _named_pages(samples):
        assert client.get(url).status_code == 200, url
        for method in ("PUT", "DELETE"):
            response = client.generic(method, url)
            assert response.status_code == 405, (method, url)
            assert response["Allow"] == "GET, HEAD", (method, url)


def test_the_reported_pages_that_only_show_refuse_post(personas, samples):
    client = Client()
    client.force_login(personas.secretariat)
    for url in _named_pages(samples):
        response = client.post(url, {"x": "1"})
        assert response.status_code == 405, url
        assert response["Allow"] == "GET, HEAD", url
        assert PAGE_TEXT in response.content.decode()
        # The view's own response, given the page: its other headers stay.
        assert response["X-Frame-Options"] == "DENY"
        assert response["Content-Type"] == "text/html; charset=utf-8"
        assert int(response["Content-Length"]) == len(response.content)


def test_a_form_page_names_get_head_and_post(personas):
    client = Client()
    client.force_login(personas.secretariat)
    url = reverse("initiatives:procedure_create")  # a class view serving get and post
    response = client.delete(url)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"


def test_options_and_unknown_methods_are_refused_on_screens_even_anonymous(db):
    client = Client()
    for method in ("OPTIONS", "TRACE", "PROPFIND"):
        response = client.generic(method, reverse("initiatives:systems"))
        assert response.status_code == 405, method
        assert response["Allow"] == "GET, HEAD"


def test_the_page_follows_the_language_switch(personas):
    client = Client()
    client.force_login(personas.secretariat)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.put(reverse("home"))
    assert response.status_code == 405
    assert "This action is not available on this page." in response.content.decode()
