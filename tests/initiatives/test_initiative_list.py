from datetime import date

import pytest
from django.urls import reverse

from initiatives.models import Review
from tests.factory import initiative, make_progress, make_review

pytestmark = pytest.mark.django_db

URL = reverse("initiatives:list")


@pytest.fixture
def today(monkeypatch):
    monkeypatch.setattr("initiatives.views._today", lambda: date(2026, 11, 20))
    return date(2026, 11, 20)


def _codes(response):
    return [ini.code for ini in response.context["initiatives"]]


def test_anonymous_is_sent_to_login(client, plan):
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_defaults_to_current_fiscal_year_and_lists_everything(client, personas, today):
    client.force_login(personas.viewer)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.context["fiscal_year"] == 2026
    assert len(_codes(response)) == 13
    assert "令和8年度 (2026年度)" in response.content.decode()


def test_filters_by_policy_wg_section(client, personas, today):
    client.force_login(personas.viewer)
    assert _codes(client.get(URL, {"policy": 2})) == ["2.1", "2.2", "2.3", "2.4"]
    assert _codes(client.get(URL, {"wg": personas.wg.pk})) == ["2.1", "2.2", "3.1", "3.3", "4.1"]
    section = initiative("3.2").lead_section
    assert _codes(client.get(URL, {"section": section.pk})) == ["3.2", "3.4"]


def test_filters_by_latest_status_of_the_year(client, personas, today):
    make_progress(initiative("2.1"), entry_date=date(2026, 5, 1), status="delayed")
    make_progress(initiative("2.1"), entry_date=date(2026, 9, 1), status="on_track", percent=40)
    make_progress(initiative("2.2"), entry_date=date(2026, 6, 1), status="delayed")
    make_progress(initiative("2.3"), entry_date=date(2025, 6, 1), status="delayed")  # FY2025
    client.force_login(personas.viewer)
    assert _codes(client.get(URL, {"status": "delayed"})) == ["2.2"]
    assert _codes(client.get(URL, {"status": "on_track"})) == ["2.1"]
    assert _codes(client.get(URL, {"status": "delayed", "fy": "2025"})) == ["2.3"]
    assert _codes(client.get(URL, {"status": "delayed", "fy": "R7"})) == ["2.3"]
    nothing = _codes(client.get(URL, {"status": "none", "policy": 2}))
    assert nothing == ["2.3", "2.4"]


def test_filters_by_review_state(client, personas, today):
    make_review(initiative("2.1"), state=Review.State.SUBMITTED)
    make_review(initiative("2.2"), state=Review.State.RETURNED)
    make_review(initiative("2.3"), fiscal_year=2025, state=Review.State.SUBMITTED)
    client.force_login(personas.viewer)
    assert _codes(client.get(URL, {"review": "submitted"})) == ["2.1"]
    assert _codes(client.get(URL, {"review": "returned"})) == ["2.2"]
    assert _codes(client.get(URL, {"review": "none", "policy": 2})) == ["2.3", "2.4"]


def test_filters_by_days_without_progress(client, personas, today):
    make_progress(initiative("2.1"), entry_date=date(2026, 11, 10))  # 10 days ago
    make_progress(initiative("2.2"), entry_date=date(2026, 8, 1))  # 111 days ago
    client.force_login(personas.viewer)
    stale = _codes(client.get(URL, {"stale_days": 30, "policy": 2}))
    assert stale == ["2.2", "2.3", "2.4"]  # never logged counts as stale
    assert _codes(client.get(URL, {"stale_days": 5, "policy": 2})) == ["2.1", "2.2", "2.3", "2.4"]


def test_bad_filter_values_are_explained_and_ignored(client, personas, today):
    client.force_login(personas.viewer)
    response = client.get(URL, {"fy": "令和8年2月", "status": "bogus", "policy": 2})
    assert response.status_code == 200
    body = response.content.decode()
    assert "「令和8年2月」は年月を表しており、年度ではありません。" in body
    assert "正しく選択してください。" in body
    assert response.context["fiscal_year"] == 2026
    assert _codes(response) == ["2.1", "2.2", "2.3", "2.4"]


def test_rollup_and_rule_text_on_the_list(client, personas, today):
    make_progress(initiative("2.1"), percent=40)
    make_progress(initiative("2.2"), status="done")
    client.force_login(personas.viewer)
    response = client.get(URL)
    progress = response.context["progress"]
    assert str(progress.overall.percent) == "70.0"
    body = response.content.decode()
    assert "70.0%" in body
    assert "中止を除く取り組みの平均です" in body


def test_status_and_review_labels_are_read_in_the_language_of_each_render():
    """The list's label filters keep their labels once, as lazy translations: each render
    reads them in its own language, one after the other in the same process."""
    from django.utils import translation

    from initiatives.templatetags.initiative_format import review_label, status_label

    shown = []
    for language in ("ja", "en", "ja"):
        with translation.override(language):
            shown.append((str(status_label("on_track")), str(review_label("submitted"))))
    assert shown == [("順調", "提出済"), ("On track", "Submitted"), ("順調", "提出済")]
    assert (status_label(""), status_label("no_such"), review_label(None)) == ("", "", "")
