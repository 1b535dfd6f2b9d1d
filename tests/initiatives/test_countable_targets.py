from datetime import date

import pytest
from django.urls import reverse

from initiatives.models import OnlineProcedure, StandardSystem
from tests.factory import make_procedure

pytestmark = pytest.mark.django_db


@pytest.fixture
def today(monkeypatch):
    def set_today(value):
        monkeypatch.setattr("initiatives.views._today", lambda: value)

    set_today(date(2023, 3, 1))
    return set_today


def test_procedures_count_against_r4_year_end(client, personas, today):
    make_procedure(1, "児童手当の認定請求", status="online", online_on=date(2022, 10, 1))
    make_procedure(2, "保育施設等の利用申込", status="online", online_on=date(2023, 3, 31))
    make_procedure(3, "介護保険の要介護認定申請", status="preparing")
    client.force_login(personas.viewer)
    response = client.get(reverse("initiatives:procedures"))
    body = response.content.decode()
    assert "2 / 27" in body
    assert "令和4年度末(2023-03-31)" in body
    assert "期限まであと30日" in body
    assert [p.number for p in response.context["procedures"]] == list(range(1, 28))
    assert "27件中 確認済み3件" in body
    response = client.get(reverse("initiatives:procedures"), {"status": "preparing"})
    assert [p.number for p in response.context["procedures"]] == [3]


def test_member_of_linked_wg_adds_and_edits_a_procedure(client, personas, today):
    client.force_login(personas.member)  # 情報推進課WG runs initiative 2.1
    response = client.post(
        reverse("initiatives:procedure_create"),
        {"name": "転出届", "channel": "pittari", "status": "online", "online_on": ""},
    )
    assert response.status_code == 200
    assert "オンライン化済の場合はオンライン化日を入力してください。" in response.content.decode()
    assert 'value="転出届"' in response.content.decode()
    response = client.post(
        reverse("initiatives:procedure_create"),
        {"name": "転出届", "channel": "pittari", "status": "online", "online_on": "2023-02-01"},
        follow=True,
    )
    proc = OnlineProcedure.objects.get(name="転出届")
    # Numbered after the national 27 that the plan load ships; the city's own row.
    assert (proc.number, proc.channel, proc.online_on) == (28, "pittari", date(2023, 2, 1))
    # saving never confirms: the row waits for the secretariat's 確認 (models.Confirmation)
    assert (proc.provenance, proc.confirmation) == ("city", "unconfirmed")
    assert "1 / 27" in response.content.decode()
    client.post(
        reverse("initiatives:procedure_edit", args=[proc.pk]),
        {
            "name": "転出届(マイナポータル)",
            "channel": "pittari",
            "status": "online",
            "online_on": "2023-02-01",
            "version": "1",
        },
    )
    proc.refresh_from_db()
    assert proc.name == "転出届(マイナポータル)"


def test_systems_x_of_20_and_filters(client, personas, today):
    today(date(2026, 5, 1))  # R7年度末 (2026-03-31) has passed
    StandardSystem.objects.filter(number__in=[1, 2]).update(
        phase="done", migrated_on=date(2026, 1, 10)
    )
    StandardSystem.objects.filter(number=18).update(phase="migrating")
    StandardSystem.objects.filter(number__in=[1, 2, 18]).update(confirmation="confirmed")
    client.force_login(personas.hq)
    url = reverse("initiatives:systems")
    response = client.get(url)
    body = response.content.decode()
    assert "2 / 20" in body and "令和7年度末(2026-03-31)" in body and "期限を31日超過" in body
    assert len(response.context["systems"]) == 20
    assert [s.number for s in client.get(url, {"group": 3}).context["systems"]] == [18, 19, 20]
    assert [s.number for s in client.get(url, {"phase": "migrating"}).context["systems"]] == [18]
    overdue = [s.number for s in client.get(url, {"overdue": "1"}).context["systems"]]
    assert overdue == [18]  # the others are still the loaded, unconfirmed 未着手
    StandardSystem.objects.update(confirmation="confirmed")
    overdue = [s.number for s in client.get(url, {"overdue": "1"}).context["systems"]]
    assert overdue == list(range(3, 21))


def test_overdue_before_the_deadline_is_a_passed_planned_date(client, personas, today):
    today(date(2025, 6, 1))
    StandardSystem.objects.filter(number=5).update(planned_on=date(2025, 5, 1))
    StandardSystem.objects.filter(number=6).update(planned_on=date(2025, 9, 1))
    StandardSystem.objects.filter(number__in=[5, 6]).update(confirmation="confirmed")
    client.force_login(personas.viewer)
    response = client.get(reverse("initiatives:systems"), {"overdue": "1"})
    assert [s.number for s in response.context["systems"]] == [5]


def test_secretariat_records_a_migration(client, personas, today):
    system = StandardSystem.objects.get(number=1)
    client.force_login(personas.secretariat)
    url = reverse("initiatives:system_edit", args=[system.pk])
    response = client.post(url, {"phase": "fit_gap", "migrated_on": "2025-12-01", "version": "1"})
    assert (
        "移行完了日がある場合、フェーズは「移行完了(稼働)」にしてください。"
        in response.content.decode()
    )
    response = client.post(
        url,
        {"phase": "done", "migrated_on": "2025-12-01", "planned_on": "2025-11-30", "version": "1"},
    )
    assert response.status_code == 302
    system.refresh_from_db()
    assert (system.phase, system.migrated_on) == ("done", date(2025, 12, 1))
    assert system.history.first().history_user == personas.secretariat


def test_one_form_screen_serves_procedures_and_systems(client, personas, today):
    """procedure_create/procedure_edit/system_edit share one view class and one template."""
    proc = make_procedure(4, "妊娠の届出", status="preparing")
    system = StandardSystem.objects.select_related("group").get(number=1)
    client.force_login(personas.secretariat)

    html = client.get(reverse("initiatives:procedure_create")).content.decode()
    assert "<title>手続の追加 | かほく市DX推進ポータル</title>" in html
    assert "<h1>手続の追加</h1>" in html
    assert f'<a href="{reverse("initiatives:procedures")}">オンライン化手続</a>' in html

    html = client.get(reverse("initiatives:procedure_edit", args=[proc.pk])).content.decode()
    assert "<title>手続の編集 | かほく市DX推進ポータル</title>" in html
    assert "<h1>手続 4 の編集</h1>" in html
    assert 'value="妊娠の届出"' in html

    html = client.get(reverse("initiatives:system_edit", args=[system.pk])).content.decode()
    assert "<title>標準化対象システムの編集 | かほく市DX推進ポータル</title>" in html
    assert f"<h1>{system}（{system.group.name}）</h1>" in html
    assert f'<a href="{reverse("initiatives:systems")}">標準化対象システム</a>' in html

    response = client.post(
        reverse("initiatives:procedure_edit", args=[proc.pk]),
        {"name": "妊娠の届出(電子)", "channel": "pittari", "status": "preparing", "version": "1"},
        follow=True,
    )
    assert "「妊娠の届出(電子)」を更新しました。" in response.content.decode()
    response = client.post(
        reverse("initiatives:system_edit", args=[system.pk]),
        {"phase": "fit_gap", "version": "1"},
        follow=True,
    )
    assert f"{system}を更新しました。" in response.content.decode()
    assert client.put(reverse("initiatives:system_edit", args=[system.pk])).status_code == 405
