"""Two secretariat users edit the same row in /admin/: the second, stale save is refused.

Before, the admin had no version check: the second save from a form opened before the first
save silently put the old values back (issue 15 item 4).
"""

from dataclasses import dataclass
from datetime import date

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from initiatives.models import (
    Indicator,
    Initiative,
    OnlineProcedure,
    ProgressEntry,
    Review,
    StandardSystem,
)
from portal_lib.versioning import is_versioned
from tests.factory import (
    initiative,
    make_indicator,
    make_procedure,
    make_progress,
    make_review,
    make_user,
)
from tests.security import admin_form_data
from workgroups.models import StaffProfile

pytestmark = pytest.mark.django_db

CONFLICT = "ほかの職員が先にこの"


@dataclass
class Case:
    model: type
    make: object
    field: str
    first: str
    second: str
    what: str


CASES = {
    "initiative": Case(
        Initiative, lambda: initiative("2.1"), "title", "第一の変更", "第二の変更", "取り組み"
    ),
    "progress": Case(
        ProgressEntry,
        lambda: make_progress(initiative("2.1"), entry_date=date(2026, 5, 1), done_text="元"),
        "done_text",
        "説明会を開催",
        "窓口を改善",
        "進捗記録",
    ),
    "indicator": Case(
        Indicator, lambda: make_indicator(initiative("2.1")), "unit", "件", "手続", "指標"
    ),
    "review": Case(
        Review, lambda: make_review(initiative("2.1")), "plan_text", "計画A", "計画B", "振り返り"
    ),
    "procedure": Case(
        OnlineProcedure, lambda: make_procedure(1, "転入届"), "note", "備考A", "備考B", "手続"
    ),
    "system": Case(
        StandardSystem,
        lambda: StandardSystem.objects.order_by("number").first(),
        "note",
        "備考A",
        "備考B",
        "標準化対象システム",
    ),
    "staff": Case(
        StaffProfile,
        lambda: StaffProfile.objects.get(user__username="viewer"),
        "display_name",
        "名前A",
        "名前B",
        "職員の情報",
    ),
}


def test_every_model_with_a_version_is_covered():
    versioned = {m for m in admin.site._registry if is_versioned(m)}
    assert versioned == {case.model for case in CASES.values()}


@pytest.fixture
def two_secretaries(personas):
    second = make_user(
        "secretariat2",
        role=StaffProfile.Role.SECRETARIAT,
        section="情報推進課",
        display_name="二人目",
    )
    first, other = Client(), Client()
    first.force_login(personas.secretariat)
    other.force_login(second)
    return first, other, second


@pytest.mark.parametrize("name", CASES)
def test_second_stale_admin_save_is_refused_and_the_first_kept(two_secretaries, name):
    case = CASES[name]
    obj = case.make()
    first, second, second_user = two_secretaries
    opts = case.model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    form_second = admin_form_data(second.get(url))  # both open the same row
    form_first = admin_form_data(first.get(url))
    assert form_first["version"] == str(obj.version)

    form_second[case.field] = case.second
    response = second.post(url, form_second)  # the second user saves first ...
    assert response.status_code == 302
    form_first[case.field] = case.first
    response = first.post(url, form_first)  # ... the first user's form is now stale

    assert response.status_code == 200
    body = response.content.decode()
    assert f"{CONFLICT}{case.what}を更新したため、保存しませんでした。" in body
    assert "最終更新者: 二人目" in body  # who saved, and what is saved now
    assert case.second in body
    obj.refresh_from_db()
    assert getattr(obj, case.field) == case.second
    assert obj.version == 2
    assert obj.history.first().history_user == second_user

    # reloading the form shows the saved values and the new version; that save goes through
    fresh = admin_form_data(first.get(url))
    assert fresh["version"] == "2"
    fresh[case.field] = case.first
    assert first.post(url, fresh).status_code == 302
    obj.refresh_from_db()
    assert getattr(obj, case.field) == case.first
    assert obj.version == 3


def test_a_post_without_the_version_is_refused(client, personas):
    ini = initiative("2.1")
    client.force_login(personas.secretariat)
    url = reverse("admin:initiatives_initiative_change", args=[ini.pk])
    data = admin_form_data(client.get(url))
    del data["version"]
    data["title"] = "版数なし"

    response = client.post(url, data)

    assert response.status_code == 200
    assert CONFLICT in response.content.decode()
    ini.refresh_from_db()
    assert ini.title != "版数なし"


def test_an_admin_save_makes_a_portal_form_opened_before_it_stale(client, personas):
    """The version bump is shared: the portal's service refuses its now-stale version."""
    from initiatives.services import EditConflict, progress_entry_update

    entry = make_progress(initiative("2.1"), entry_date=date(2026, 5, 1), done_text="元")
    portal_version = entry.version
    client.force_login(personas.secretariat)
    url = reverse("admin:initiatives_progressentry_change", args=[entry.pk])
    data = admin_form_data(client.get(url))
    data["done_text"] = "管理画面で修正"
    assert client.post(url, data).status_code == 302

    with pytest.raises(EditConflict):
        progress_entry_update(
            actor=personas.secretariat,
            entry=entry,
            version=portal_version,
            entry_date=entry.entry_date,
            status=entry.status,
            done_text="ポータルで修正",
        )
    entry.refresh_from_db()
    assert entry.done_text == "管理画面で修正"


def test_a_history_revert_is_checked_against_the_saved_version(two_secretaries):
    """simple-history's revert form holds an old copy; it is still checked against today's."""
    first, second, second_user = two_secretaries
    ini = initiative("2.1")
    url = reverse("admin:initiatives_initiative_change", args=[ini.pk])
    original_title = ini.title
    data = admin_form_data(second.get(url))
    data["title"] = "新しい名称"
    assert second.post(url, data).status_code == 302
    oldest = ini.history.order_by("history_id").first()
    revert = reverse("admin:initiatives_initiative_simple_history", args=[ini.pk, oldest.pk])
    stale = admin_form_data(first.get(revert))  # opened before the next save ...
    data = admin_form_data(second.get(url))
    data["title"] = "さらに新しい名称"
    assert second.post(url, data).status_code == 302

    response = first.post(revert, stale)  # ... so the revert is refused

    assert response.status_code == 200
    assert CONFLICT in response.content.decode()
    ini.refresh_from_db()
    assert ini.title == "さらに新しい名称"
    fresh = admin_form_data(first.get(revert))
    assert first.post(revert, fresh).status_code == 302
    ini.refresh_from_db()
    assert ini.title == original_title
    assert ini.version == 4


@pytest.mark.django_db(transaction=True)
def test_a_revert_outside_a_test_transaction_takes_its_row_lock(client):
    """Like production (no ATOMIC_REQUESTS): the revert view must open its own transaction
    for the version check's SELECT ... FOR UPDATE (PostgreSQL refuses one outside)."""
    from tests.factory import load_plan, make_personas

    load_plan()
    personas = make_personas()
    ini = initiative("2.1")
    client.force_login(personas.secretariat)
    oldest = ini.history.order_by("history_id").first()
    revert = reverse("admin:initiatives_initiative_simple_history", args=[ini.pk, oldest.pk])
    data = admin_form_data(client.get(revert))
    data["title"] = "履歴から戻して修正"

    response = client.post(revert, data)

    assert response.status_code == 302
    ini.refresh_from_db()
    assert ini.title == "履歴から戻して修正"
    assert ini.version == 2
