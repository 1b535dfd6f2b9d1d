"""The audit trail on a screen (issue 23): changes from a screen, an import and a command in
one list, filtered and exported; login records with a lockout lifted there; retention."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from io import StringIO

import pytest
from axes.models import AccessFailureLog, AccessLog
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from initiatives.models import OnlineProcedure, ProgressEntry
from portal_lib.history import set_history_user
from reporting.exchange import sheets
from reporting.selectors import audit
from tests.factory import PASSWORD, initiative, make_procedure, make_progress, upload, xlsx_bytes
from workgroups.models import StaffProfile

pytestmark = pytest.mark.django_db

AUDIT = reverse("reporting:audit")
EXPORT = reverse("reporting:audit_export")
LOGINS = reverse("reporting:audit_logins")
UNLOCK = reverse("reporting:audit_unlock")
ADDRESS = "192.0.2.44"


def _reiwa(day: date) -> str:
    """A day as staff type it in 和暦 (R8.12.7)."""
    return f"R{day.year - 2018}.{day.month}.{day.day}"


@pytest.fixture
def changes(client, personas, tmp_path):
    """One change from each way in: a screen form, the Excel import screen, a command."""
    proc = make_procedure(1)
    client.force_login(personas.secretariat)
    response = client.post(
        reverse("initiatives:procedure_edit", args=[proc.pk]),
        {
            "name": "=HYPERLINK(1)転出届",
            "category": proc.category,
            "channel": proc.channel,
            "section": proc.section_id or "",
            "status": proc.status,
            "online_on": "",
            "version": str(proc.version),
        },
    )
    assert response.status_code == 302
    # the Excel import screen: preview, then confirm
    entry = make_progress(initiative("2.1"), entry_date=date(2026, 5, 1), percent=10)
    data = xlsx_bytes([sheets.PROGRESS.header(), ["2.1", date(2026, 5, 1), "順調", 40]])
    preview = client.post(reverse("excel:bulk_import", args=["progress"]), {"file": upload(data)})
    token = preview.context["token"]
    done = client.post(reverse("excel:bulk_confirm", args=["progress"]), {"token": token})
    assert done.status_code == 302
    # a command run without --user: the rows carry no user (shown as システム)
    path = tmp_path / "進捗.xlsx"
    path.write_bytes(
        xlsx_bytes([sheets.PROGRESS.header(), ["2.2", "R8.6.1", "遅れ", 20]], title="進捗")
    )
    call_command("import_sheet", "progress", str(path), stdout=StringIO(), stderr=StringIO())
    return proc, entry


def _entries(client, **params):
    response = client.get(AUDIT, params)
    assert response.status_code == 200
    return response, list(response.context["entries"])


def test_changes_from_a_screen_an_import_and_a_command_with_who_and_fields(client, changes):
    proc, entry = changes
    response, entries = _entries(client)
    by_object: dict = {}
    for e in entries:  # the newest of each (kind, object, action)
        by_object.setdefault((e.kind, e.object_id, e.action), e)
    screen = by_object[("initiatives.onlineprocedure", proc.pk, "変更")]
    assert screen.who == "secretariat"
    assert [(c.field, c.old, c.new) for c in screen.changes] == [
        ("手続名", "児童手当の認定請求", "=HYPERLINK(1)転出届")
    ]
    assert screen.object_url == reverse("initiatives:procedure_edit", args=[proc.pk])
    imported = by_object[("initiatives.progressentry", entry.pk, "変更")]
    assert (imported.who, imported.kind_label) == ("secretariat", "進捗記録")
    assert [(c.field, c.old, c.new) for c in imported.changes] == [("進捗率(%)", "10", "40")]
    assert imported.object_url == reverse(
        "initiatives:progress_edit", args=[entry.initiative_id, entry.pk]
    )
    command_row = ProgressEntry.objects.get(initiative=initiative("2.2"))
    made = by_object[("initiatives.progressentry", command_row.pk, "作成")]
    assert made.who == "システム"
    assert ("進捗率(%)", "", "20") in [(c.field, c.old, c.new) for c in made.changes]
    body = response.content.decode()
    assert "令和" in body  # when, in 和暦 with the time
    assert f'href="{screen.object_url}"' in body
    # entries come newest first
    assert [e.when for e in entries] == sorted((e.when for e in entries), reverse=True)


def test_filters_person_dates_in_wareki_kind_and_object(client, personas, changes):
    proc, entry = changes
    today = timezone.localdate()
    _, mine = _entries(client, person=personas.secretariat.pk)
    assert {e.who for e in mine} == {"secretariat"}
    assert {e.kind for e in mine} >= {"initiatives.onlineprocedure", "initiatives.progressentry"}
    _, system = _entries(client, person=audit.SYSTEM)
    assert {e.who for e in system} == {"システム"}
    assert any(e.kind == "initiatives.progressentry" for e in system)
    _, todays = _entries(
        client,
        date_from=_reiwa(today),
        date_to=f"令和{today.year - 2018}年{today.month}月{today.day}日",
    )
    assert len(todays) >= 3
    _, none = _entries(client, date_from="令和3年4月1日", date_to="R3.4.2")
    assert none == []
    _, kind = _entries(client, kind="initiatives.progressentry")
    assert {e.kind for e in kind} == {"initiatives.progressentry"}
    _, one = _entries(client, kind="initiatives.onlineprocedure", object=proc.pk)
    assert {(e.kind, e.object_id) for e in one} == {("initiatives.onlineprocedure", proc.pk)}
    assert [(e.action, e.who) for e in one][:2] == [("変更", "secretariat"), ("変更", "システム")]
    assert one[-1].action == "作成"


def test_bad_filters_are_told_in_japanese(client, personas):
    client.force_login(personas.secretariat)
    response = client.get(AUDIT, {"date_from": "令和99年13月1日", "object": "１２"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "IDは半角数字で入力してください。" in body
    response = client.get(AUDIT, {"object": "12"})
    assert "対象のIDで絞り込むときは種類も選んでください。" in response.content.decode()
    response = client.get(AUDIT, {"date_from": "R8.5.2", "date_to": "R8.5.1"})
    assert "終わりの日は始まりの日以降にしてください。" in response.content.decode()


def test_an_objects_page_links_to_its_changes(client, personas, changes):
    proc, _ = changes
    page = client.get(reverse("initiatives:procedure_edit", args=[proc.pk])).content.decode()
    link = f"{AUDIT}?kind=initiatives.onlineprocedure&amp;object={proc.pk}"
    assert f'href="{link}"' in page
    ini = initiative("2.1")
    page = client.get(reverse("initiatives:detail", args=[ini.pk])).content.decode()
    assert f"{AUDIT}?kind=initiatives.initiative&amp;object={ini.pk}" in page
    client.force_login(personas.member)  # the audit list is the secretariat's: no link
    page = client.get(reverse("initiatives:detail", args=[ini.pk])).content.decode()
    assert AUDIT not in page


def test_csv_has_bom_header_rows_and_neutralised_formulas(client, personas, changes):
    proc, _ = changes
    response = client.get(
        EXPORT,
        {
            "kind": "initiatives.onlineprocedure",
            "object": proc.pk,
            "person": personas.secretariat.pk,
        },
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [
        "日時", "変更した人", "種類", "ID", "対象", "操作", "項目", "変更前", "変更後", "理由"
    ]  # fmt: skip
    changed = [r for r in rows[1:] if r[5] == "変更"]
    assert [r[1:4] + r[6:9] for r in changed] == [
        ["secretariat", "オンライン化手続", str(proc.pk), "手続名", "児童手当の認定請求",
         "'=HYPERLINK(1)転出届"],
    ]  # fmt: skip
    assert all(r[3] == str(proc.pk) for r in rows[1:])


def test_csv_is_bounded_with_a_note(client, personas, changes):
    rows = list(audit.export_rows(audit.AuditFilter(), limit=2))
    total = audit.ChangeList(audit.AuditFilter()).count()
    assert rows[-1] == [f"上限の2件で打ち切りました(全{total:,}件)。条件を絞って出力してください。"]
    assert len({tuple(r[:2]) for r in rows[:-1]}) <= 2


def test_logins_only_update_of_last_login_stays_out_of_the_change_list(client, personas):
    client.post(reverse("login"), {"username": "member", "password": PASSWORD})
    client.force_login(personas.secretariat)
    _, entries = _entries(client, kind="auth.user", object=personas.member.pk)
    assert [e.action for e in entries] == ["作成"]  # the login's last_login row is left out
    # a real change of the account (minutes after the login) stays listed, with what changed
    member = personas.member
    type(member).objects.filter(pk=member.pk).update(
        last_login=timezone.now() - timedelta(minutes=5)
    )
    member.refresh_from_db()
    member.email = "member2@city.kahoku.example"
    set_history_user(member, personas.secretariat)
    member.save()
    _, entries = _entries(client, kind="auth.user", object=member.pk)
    assert [(e.action, e.who) for e in entries] == [("変更", "secretariat"), ("作成", "システム")]
    assert [(c.field, c.new) for c in entries[0].changes] == [
        ("メールアドレス", "member2@city.kahoku.example")
    ]


def _fail(client, times: int):
    for _ in range(times):
        response = client.post(
            reverse("login"), {"username": "member", "password": "wrong"}, REMOTE_ADDR=ADDRESS
        )
    return response


def test_a_lockout_is_recorded_lifted_there_and_the_person_logs_in(client, personas, settings):
    anonymous = client.__class__()
    assert _fail(anonymous, settings.AXES_FAILURE_LIMIT).status_code == 429
    assert AccessFailureLog.objects.filter(username="member", locked_out=True).count() == 1
    client.force_login(personas.secretariat)
    page = client.get(LOGINS, {"username": "member"})
    assert [p.username for p in page.context["locked"]] == ["member"]
    rows = list(page.context["rows"])
    assert (rows[0].kind, rows[0].username, rows[0].address, rows[0].person) == (
        audit.LOCKOUT,
        "member",
        ADDRESS,
        "member",
    )
    assert [r.kind for r in rows[1:]] == [audit.FAILURE] * (settings.AXES_FAILURE_LIMIT - 1)
    assert "ログイン制限(ロック)" in page.content.decode()
    response = client.post(UNLOCK, {"user": personas.member.pk}, follow=True)
    assert "member のログインの制限を解除しました。" in response.content.decode()
    assert response.context["locked"] == []
    login = anonymous.post(
        reverse("login"), {"username": "member", "password": PASSWORD}, REMOTE_ADDR=ADDRESS
    )
    assert login.status_code == 302
    rows = list(client.get(LOGINS, {"username": "member"}).context["rows"])
    assert [(r.kind, r.address) for r in rows[:2]] == [
        (audit.SUCCESS, ADDRESS),
        (audit.UNLOCK, None),
    ]
    assert rows[1].by == "secretariat"
    lifted = list(client.get(LOGINS, {"kind": audit.UNLOCK, "username": "MEMBER"}).context["rows"])
    assert [(r.kind, r.username) for r in lifted] == [(audit.UNLOCK, "member")]
    today = timezone.localdate()
    dated = client.get(LOGINS, {"date_from": "R3.4.1", "date_to": "R3.4.2"}).context["rows"]
    assert list(dated) == []
    todays = client.get(LOGINS, {"date_from": _reiwa(today), "username": "member"})
    assert len(todays.context["rows"]) == len(rows)


PERSONA_STATUS = [
    ("viewer", 403),
    ("member", 403),
    ("leader", 403),
    ("hq", 403),
    ("secretariat", 200),
]


@pytest.mark.parametrize(("who", "status"), PERSONA_STATUS)
@pytest.mark.parametrize("url", [AUDIT, EXPORT, LOGINS])
def test_screens_are_the_secretariats(client, personas, who, status, url):
    client.force_login(getattr(personas, who))
    assert client.get(url).status_code == status


@pytest.mark.parametrize(("who", "status"), [(w, 403) for w, _ in PERSONA_STATUS[:-1]])
def test_only_the_secretariat_lifts_a_lockout(client, personas, who, status):
    _fail(client.__class__(), 5)
    client.force_login(getattr(personas, who))
    assert client.post(UNLOCK, {"user": personas.member.pk}).status_code == status
    assert AccessFailureLog.objects.filter(locked_out=True).count() == 1
    assert not StaffProfile.history.filter(history_change_reason="ログインの制限を解除").exists()


def test_anonymous_superuser_and_methods(client, admin_client, personas):
    anonymous = client.__class__()
    for url in (AUDIT, EXPORT, LOGINS):
        response = anonymous.get(url)
        assert (response.status_code, response["Location"].split("?")[0]) == (
            302,
            reverse("login"),
        )
        assert admin_client.get(url).status_code == 200
    assert anonymous.post(UNLOCK, {"user": personas.member.pk}).status_code == 302
    secretariat = client
    secretariat.force_login(personas.secretariat)
    assert secretariat.get(UNLOCK).status_code == 405
    assert secretariat.post(UNLOCK, {"user": "999999"}).status_code == 404


# --- retention -------------------------------------------------------------------------------


def _age(qs, days: int) -> None:
    qs.update(history_date=timezone.now() - timedelta(days=days))


def test_prune_keeps_the_latest_row_of_what_exists_and_is_a_dry_run_by_default(personas):
    proc = make_procedure(1)
    for n in range(3):
        proc.note = f"メモ{n}"
        proc.save()
    gone = make_procedure(99, "廃止した手続")
    gone.delete()
    _age(OnlineProcedure.history.all(), 400)
    AccessLog.objects.create(username="member", ip_address=ADDRESS, user_agent="t")
    AccessLog.objects.update(attempt_time=timezone.now() - timedelta(days=400))
    AccessFailureLog.objects.create(username="member", ip_address=ADDRESS, user_agent="t")

    rows_of_proc = OnlineProcedure.history.filter(id=proc.pk).count()
    total = OnlineProcedure.history.count()

    out = StringIO()
    call_command("prune_audit", "--days", "365", stdout=out)
    text = out.getvalue()
    # all of proc's rows but its latest, and both of the deleted one's
    assert f"オンライン化手続: {rows_of_proc - 1 + 2}件 削除の対象" in text
    assert "ログイン成功の記録: 1件 削除の対象" in text
    assert "ログイン失敗の記録: 0件 削除の対象" in text
    assert text.splitlines()[-1] == "--dry-run のため削除していません(削除するには --apply)。"
    assert OnlineProcedure.history.count() == total

    call_command("prune_audit", "--days", "365", "--apply", stdout=StringIO())
    kept = list(OnlineProcedure.history.filter(id=proc.pk))
    assert [(r.note, r.history_type) for r in kept] == [("メモ2", "~")]
    assert not OnlineProcedure.history.filter(id=gone.pk).exists()
    assert (AccessLog.objects.count(), AccessFailureLog.objects.count()) == (0, 1)


def test_prune_without_a_retention_keeps_everything(settings, personas):
    settings.AUDIT_RETENTION_DAYS = 0
    out = StringIO()
    call_command("prune_audit", stdout=out)
    assert out.getvalue().startswith("保存期間が設定されていません")
