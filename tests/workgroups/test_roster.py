"""The staff roster from Excel: the city's layout, exact preview, reshuffle, command."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError

from initiatives.selectors import home_for_user
from portal_lib.sheet_reading import SpreadsheetError
from tests.factory import make_review
from workgroups import roster, services
from workgroups.access import roles_for
from workgroups.models import HeadquartersMember, StaffProfile, WorkingGroupMembership

User = get_user_model()
pytestmark = pytest.mark.django_db
TODAY = date(2027, 3, 20)
APRIL = date(2027, 4, 1)

HEADER = [
    "職員番号",
    "所属",
    "職名",
    "氏名",
    "ふりがな",
    "メールアドレス",
    "DX推進WG",
    "WGでの役割",
    "DX推進本部",
]


def roster_xlsx(rows, *, header=HEADER, merge_section=True, title="令和9年度 職員名簿"):
    """The roster as the city keeps it: a title, a blank row, the header, 所属 merged down."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名簿"
    ws.append([title])
    ws.append([])
    ws.append(header)
    first = 4
    for row in rows:
        values = [row.get(h, "") for h in header]
        ws.append(values)
    if merge_section:
        section_col = next(i for i, h in enumerate(header) if h in ("所属", "課名", "所属課")) + 1
        # merge runs of the same 所属; the covered cells are blank, as Excel leaves them
        start = first
        for r in range(first, first + len(rows) + 1):
            current = ws.cell(r, section_col).value if r < first + len(rows) else object()
            if r > start and current != ws.cell(start, section_col).value:
                if r - 1 > start:
                    ws.merge_cells(
                        start_row=start,
                        start_column=section_col,
                        end_row=r - 1,
                        end_column=section_col,
                    )
                start = r
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def person(number, section, name, **extra):
    row = {"職員番号": number, "所属": section, "氏名": name}
    row.update(extra)
    return row


BASE_ROWS = [
    person(
        "１００１",
        "情報推進課",
        "北 一郎",
        職名="課長",
        ふりがな="きた いちろう",
        メールアドレス="kita@city.kahoku.example",
        **{"DX推進WG": "情報推進課WG", "WGでの役割": "リーダー", "DX推進本部": "本部員"},
    ),
    person(
        "1002",
        "情報推進課",
        "南 花子",
        メールアドレス="minami@city.kahoku.example",
        **{"DX推進WG": "情報推進課WG", "WGでの役割": "メンバー"},
    ),
    person(1003, "総務課", "東 次郎", **{"DX推進WG": "総務課WG", "WGでの役割": "WG長"}),
]


def preview(data, actor=None, effective=TODAY, plan=None):
    from plans.selectors import current_plan

    return roster.preview_roster(
        plan=plan or current_plan(),
        data=data,
        filename="meibo.xlsx",
        effective=effective,
        today=TODAY,
        actor=actor,
    )


def apply(data, actor=None, effective=TODAY, plan=None):
    from plans.selectors import current_plan

    return services.staff_roster_apply(
        actor=actor,
        plan=plan or current_plan(),
        data=data,
        filename="meibo.xlsx",
        effective=effective,
        today=TODAY,
    )


def test_city_layout_preview_is_exact(plan):
    p = preview(roster_xlsx(BASE_ROWS))
    assert p.errors == []
    assert p.counts() == {"new": 3, "changed": 0, "leaving": 0, "unchanged": 0}
    first = p.new[0]
    assert (first.staff_number, first.name, first.row) == ("1001", "北 一郎", 4)
    assert [(c.label, c.old, c.new) for c in first.changes] == [
        ("職員番号", "—", "1001"),
        ("氏名", "—", "北 一郎"),
        ("ふりがな", "—", "きた いちろう"),
        ("職名", "—", "課長"),
        ("メールアドレス", "—", "kita@city.kahoku.example"),
        ("所属", "—", "情報推進課"),
        ("DX推進WG", "—", "情報推進課WG(WG長)"),
        ("DX推進本部", "—", "本部員(情報推進課長)"),
    ]
    # 所属 merged over two people reaches the second; 1003 typed as a number
    assert p.new[1].state.section == "情報推進課"
    assert p.new[2].state.staff_number == "1003"
    assert p.new[2].state.wgs == (("総務課WG", "leader"),)


def test_headers_in_any_order_and_synonyms(plan):
    header = ["メール", "名前", "DX推進WG", "課名", "職員番号"]
    rows = [
        {
            "メール": "kita@city.kahoku.example",
            "名前": "北 一郎",
            "DX推進WG": "情報推進課WG",
            "課名": "情報推進課",
            "職員番号": "１００１",
        }
    ]
    p = preview(roster_xlsx(rows, header=header))
    assert p.errors == []
    state = p.new[0].state
    assert (state.staff_number, state.name, state.email, state.section, state.wgs) == (
        "1001",
        "北 一郎",
        "kita@city.kahoku.example",
        "情報推進課",
        (("情報推進課WG", "member"),),
    )


def test_errors_name_row_column_and_value_and_nothing_is_written(plan):
    rows = [
        person("1001", "存在しない課", "北 一郎"),
        person("1002", "総務課", "", **{"DX推進本部": "会長"}),
        person("1001", "総務課", "西 三郎", メールアドレス="not-mail"),
    ]
    p = preview(roster_xlsx(rows, merge_section=False))
    assert p.new_sections == {"存在しない課": 4}  # offered as a new section, not refused
    assert p.errors == [
        "シート「名簿」5行目 D列(氏名)の「」: 氏名がありません。",
        "シート「名簿」5行目 I列(DX推進本部)の「会長」: DX推進本部は「本部員」「本部長」「副本部長」か空欄にしてください。",
        "シート「名簿」6行目 A列(職員番号)の「1001」: 職員番号が4行目と重複しています。",
        "シート「名簿」6行目 F列(メールアドレス)の「not-mail」: メールアドレスの形式が正しくありません。",
    ]
    with pytest.raises(SpreadsheetError):
        apply(roster_xlsx(rows, merge_section=False))
    assert not StaffProfile.objects.exclude(staff_number="").exists()


def test_missing_header_is_explained(plan):
    with pytest.raises(SpreadsheetError, match="見出し行が見つかりません"):
        preview(
            roster_xlsx(
                [person("1", "総務課", "a")], header=["番号", "課", "なまえ"], merge_section=False
            )
        )


def test_import_then_same_roster_again_is_a_no_op(plan):
    data = roster_xlsx(BASE_ROWS)
    apply(data)
    kita = User.objects.get(profile__staff_number="1001")
    assert kita.username == "1001" and kita.profile.kana == "きた いちろう"
    assert WorkingGroupMembership.objects.get(user=kita).role == "leader"
    seat = HeadquartersMember.objects.get(user=kita)
    assert (seat.role, seat.title) == ("member", "情報推進課長")
    counts = _history_counts()
    again = preview(data)
    assert again.counts() == {"new": 0, "changed": 0, "leaving": 0, "unchanged": 3}
    apply(data)
    assert _history_counts() == counts


def _history_counts():
    return (
        User.history.count(),
        StaffProfile.history.count(),
        WorkingGroupMembership.history.count(),
        HeadquartersMember.history.count(),
    )


def test_april_reshuffle_moves_adds_and_deactivates_with_history(plan, personas):
    apply(roster_xlsx(BASE_ROWS), actor=personas.secretariat)
    kita = User.objects.get(username="1001")
    minami = User.objects.get(username="1002")
    higashi = User.objects.get(username="1003")
    wg = personas.wg  # 情報推進課WG, led by 北 and by the personas' leader
    WorkingGroupMembership.objects.filter(user=personas.leader).delete()
    ini = next(i for i in wg.initiatives.all())
    review = make_review(ini, fiscal_year=2026, state="draft")
    assert review in _reviews_for(kita)
    reshuffle = [
        # 北 moves to 総務課 and leaves the WG; 南 becomes leader; 東 leaves; 西 joins
        person(
            "1001",
            "総務課",
            "北 一郎",
            職名="課長",
            ふりがな="きた いちろう",
            メールアドレス="kita@city.kahoku.example",
            **{"DX推進本部": "本部員"},
        ),
        person(
            "1002",
            "情報推進課",
            "南 花子",
            メールアドレス="minami@city.kahoku.example",
            **{"DX推進WG": "情報推進課WG", "WGでの役割": "リーダー"},
        ),
        person("1004", "市民生活課", "西 三郎"),
    ]
    p = preview(roster_xlsx(reshuffle), actor=personas.secretariat, effective=APRIL)
    assert p.counts() == {"new": 1, "changed": 2, "leaving": 1, "unchanged": 0}
    assert [(c.label, c.old, c.new) for c in p.changed[0].changes] == [
        ("所属", "情報推進課", "総務課"),
        ("DX推進WG", "情報推進課WG(WG長)", "—"),
        ("DX推進本部", "本部員(情報推進課長)", "本部員(総務課長)"),
    ]
    assert [(c.label, c.old, c.new) for c in p.leaving[0].changes] == [
        ("DX推進WG", "総務課WG(WG長)", "—"),
        ("状態", "有効", "無効"),
    ]
    apply(roster_xlsx(reshuffle), actor=personas.secretariat, effective=APRIL)
    kita.refresh_from_db()
    higashi.refresh_from_db()
    assert kita.profile.section.name == "総務課"
    assert not WorkingGroupMembership.objects.filter(user=kita).exists()
    assert WorkingGroupMembership.objects.get(user=minami).role == "leader"
    assert not higashi.is_active and User.objects.filter(pk=higashi.pk).exists()
    assert User.objects.get(username="1004").profile.section.name == "市民生活課"
    reason = "職員名簿の取り込み(2027年4月1日から適用)"
    last = kita.profile.history.first()
    assert (last.history_change_reason, last.history_user) == (reason, personas.secretariat)
    assert higashi.history.first().history_change_reason == reason
    assert WorkingGroupMembership.history.filter(
        user_id=minami.pk, history_change_reason=reason
    ).exists()
    # the open review moved to the new leader's home page, off the old one's
    assert review in _reviews_for(minami)
    assert review not in _reviews_for(kita)


def _reviews_for(user):
    user = User.objects.get(pk=user.pk)  # fresh roles
    home = home_for_user(roles_for(user), 2026)
    return [r for ini in home["reviews_due"] + home["reviews_returned"] for r in ini.reviews.all()]


def test_effective_date_more_than_31_days_ahead_is_previewed_not_confirmed(plan):
    p = preview(roster_xlsx(BASE_ROWS), effective=date(2027, 4, 21))
    assert p.errors == [] and not p.confirmable and p.confirm_from == date(2027, 3, 21)
    with pytest.raises(ValidationError, match="31日より先です。.*確定は2027年3月21日から行えます"):
        apply(roster_xlsx(BASE_ROWS), effective=date(2027, 4, 21))
    assert not StaffProfile.objects.filter(staff_number="1001").exists()
    with pytest.raises(ValidationError, match="適用日が先すぎます"):
        preview(roster_xlsx(BASE_ROWS), effective=date(2027, 9, 1))


def test_too_many_rows_are_refused_before_loading(plan):
    rows = [
        person(str(10000 + i), "総務課", f"職員{i}") for i in range(roster.ROSTER_MAX_ROWS + 30)
    ]
    with pytest.raises(SpreadsheetError, match="5,000行まで"):
        preview(roster_xlsx(rows, merge_section=False))


def test_command_exit_codes(plan, tmp_path, capsys):
    good = tmp_path / "meibo.xlsx"
    good.write_bytes(roster_xlsx(BASE_ROWS))
    call_command("import_staff", str(good), "--dry-run")
    assert "追加 3人、変更 0人、無効化 0人" in capsys.readouterr().out
    assert not StaffProfile.objects.filter(staff_number="1001").exists()
    call_command("import_staff", str(good))
    assert StaffProfile.objects.filter(staff_number="1001").exists()
    call_command("import_staff", str(good))
    assert "追加 0人、変更 0人、無効化 0人、変更なし 3人" in capsys.readouterr().out
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(roster_xlsx([person("x!", "総務課", "a"), person("2", "", "b")]))
    with pytest.raises(CommandError, match="2件の問題") as exc:
        call_command("import_staff", str(bad))
    err = capsys.readouterr().err
    assert "4行目 A列(職員番号)の「x!」" in err and "5行目 B列(所属)の「」" in err
    assert exc.value.returncode == 1
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("import_staff", str(good), "--effective", "4月1日")


def test_roster_screen_previews_then_confirms_once(client, personas, settings):
    from django.urls import reverse

    from tests.factory import upload

    url = reverse("workgroups:staff_roster")
    client.force_login(personas.leader)
    assert client.get(url).status_code == 403
    client.force_login(personas.secretariat)
    assert (
        "職員名簿（Excel）の取り込み"
        in client.get(reverse("workgroups:staff_list")).content.decode()
    )
    today = date.today()
    later = date.fromordinal(today.toordinal() + 10)
    response = client.post(
        url, {"file": upload(roster_xlsx(BASE_ROWS), "meibo.xlsx"), "effective": later.isoformat()}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert f"{later.month}月{later.day}日から適用" in page and "確定すると今すぐ反映" in page
    assert "追加 3人、変更 0人、無効化 0人、変更なし 0人" in page
    assert "情報推進課WG(WG長)" in page
    assert not StaffProfile.objects.filter(staff_number="1001").exists()
    token = response.context["token"]
    done = client.post(reverse("workgroups:staff_roster_confirm"), {"token": token})
    assert done.status_code == 302
    assert done["Location"] == reverse("workgroups:staff_roster_done")
    profile = StaffProfile.objects.get(staff_number="1001")
    assert profile.history.first().history_change_reason == (
        f"職員名簿の取り込み({later.year}年{later.month}月{later.day}日から適用)"
    )
    counts = _history_counts()
    again = client.post(reverse("workgroups:staff_roster_confirm"), {"token": token}, follow=True)
    assert "もう一度ファイルを選んで読み込んでください" in again.content.decode()
    assert _history_counts() == counts
    assert StaffProfile.objects.filter(staff_number__in=["1001", "1002", "1003"]).count() == 3
    # more than 31 days ahead: previewed (a rehearsal), never confirmable yet
    far = date.fromordinal(today.toordinal() + 40)
    response = client.post(
        url, {"file": upload(roster_xlsx(BASE_ROWS), "meibo.xlsx"), "effective": far.isoformat()}
    )
    start = date.fromordinal(far.toordinal() - 31)
    assert response.status_code == 200 and response.context["token"] == ""
    assert f"{start.year}年{start.month}月{start.day}日（適用日の31日前）から確定できます" in (
        response.content.decode()
    )
    # too far ahead even for a rehearsal: refused with the reason
    farther = date.fromordinal(today.toordinal() + 400)
    response = client.post(
        url,
        {"file": upload(roster_xlsx(BASE_ROWS), "meibo.xlsx"), "effective": farther.isoformat()},
    )
    assert response.status_code == 400 and "適用日が先すぎます" in response.content.decode()
