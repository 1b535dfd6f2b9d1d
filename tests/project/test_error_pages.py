"""The error pages share one base: stand-alone ones render without the database, in the
language of the switch's cookie; 403 and 404 keep the site's navigation."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.db import OperationalError
from django.test import RequestFactory

from kahoku_dx import views
from kahoku_dx.middleware import UploadLimitMiddleware, database_unavailable_response

STANDALONE = {
    "400": (lambda r: views.bad_request(r), 400),
    "500": (lambda r: views.server_error(r), 500),
    "csrf": (lambda r: views.csrf_failure(r), 403),
    "503": (lambda r: database_unavailable_response(r), 503),
}


def _request(language: str | None = None):
    request = RequestFactory().get("/somewhere/")
    if language:
        request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = language
    return request


# No `db` fixture: pytest-django makes any query in these tests raise.
@pytest.mark.parametrize("name", sorted(STANDALONE))
def test_standalone_error_pages_render_without_the_database_in_japanese(name):
    render, status = STANDALONE[name]
    response = render(_request())
    assert response.status_code == status
    html = response.content.decode()
    assert html.startswith('<!DOCTYPE html>\n<html lang="ja">')
    assert "かほく市DX推進計画 進捗管理ポータル" in html
    assert '<a class="button button-primary" href="/">ホームへ戻る</a>' in html
    assert '<p lang="en" class="hint">' in html
    assert "{%" not in html and "{{" not in html


ENGLISH = {
    "400": "<h1>The request could not be processed.</h1>",
    "500": "<h1>A problem has occurred in the system.</h1>",
    "csrf": "<h1>Your submission could not be accepted.</h1>",
    "503": "<h1>The database cannot be reached right now. Please try again later.</h1>",
}


@pytest.mark.parametrize("name", sorted(STANDALONE))
def test_standalone_error_pages_follow_the_language_cookie(name):
    render, _status = STANDALONE[name]
    html = render(_request("en")).content.decode()
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')
    assert ENGLISH[name] in html
    assert "Kahoku City DX Plan Progress Portal" in html
    assert ">Back to Home</a>" in html
    # The English hint under the Japanese text would only repeat the page.
    assert 'class="hint"' not in html
    assert not any("\u3040" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in html)


def test_server_error_during_a_database_outage_is_the_503_page_without_a_query():
    try:
        raise OperationalError("down")
    except OperationalError:
        response = views.server_error(_request("en"))
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert ENGLISH["503"] in response.content.decode()


def test_upload_limit_page_in_english(settings):
    settings.MAX_UPLOAD_BYTES = 1024 * 1024
    request = RequestFactory().post("/x/", b"", content_type="application/octet-stream")
    request.META["CONTENT_LENGTH"] = str(3 * 1024 * 1024)
    request.COOKIES[settings.LANGUAGE_COOKIE_NAME] = "en"
    middleware = UploadLimitMiddleware(lambda r: pytest.fail("the view must not run"))
    response = middleware(request)
    assert response.status_code == 413
    html = response.content.decode()
    assert "<h1>The file you sent is too large.</h1>" in html
    assert "Files of up to 1 MB can be uploaded." in html


@pytest.mark.django_db
def test_404_keeps_the_site_navigation_and_translates(client):
    html = client.get("/no-such-page/").content.decode()
    assert 'class="main-nav"' in html
    assert "ページが見つかりません。" in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/no-such-page/").content.decode()
    assert "<h1>Page not found.</h1>" in html
    assert "language-select" in html
