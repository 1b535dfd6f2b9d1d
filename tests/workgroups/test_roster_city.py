"""The roster as the city writes it, through a real April (issue 20).

Every section chief is 課長 and DX推進本部 本部員; a title row, blank rows, 所属 merged down, a
footnote under the table, a person in two WGs, 「WG員」, a 所属 the portal does not know. The
preview finds everything the confirm could meet; the April roster replaces a chief in one
import; April is rehearsed from December. Workbooks are built in code (tests.factory).
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from plans.models import Plan
from tests.factory import upload, xlsx_bytes
from workgroups import roster, services
from workgroups.models import (
    Headquarters,
    HeadquartersMember,
    Section,
    StaffProfile,
    WorkingGroup,
    WorkingGroupMembership,
)

User = get_user_model()
pytestmark = pytest.mark.django_db
JST = ZoneInfo("Asia/Tokyo")
DEC_10 = datetime(2026, 12, 10, 9, tzinfo=JST)  # the R8 plan's last year, before the R9 plan
HEADER = [
    "職員番号",
    "所属",
    "職名",
    "氏名",
    "メールアドレス",
    "DX推進WG",
    "WGでの役割",
    "DX推進本部",
]
FOOTNOTE = "※令和8年4月1日現在 情報推進課作成"


def city_roster(people: list[list], *, title: str = "令和8年度 職員名簿") -> bytes:
    """Title row, blank row, header at row 3, people from row 4 with each run of the same
    所属 merged down (as the city's sheet has it), a blank row and the footnote under it."""
    rows: list[list] = [[title], [], HEADER, *people, [], [FOOTNOTE]]
    merges = []
    sections = [p[1] if len(p) > 1 else "" for p in people]
    start = 4
    for i in range(len(people) + 1):
        r = 4 + i
        if i == len(people) or (r > start and sections[i] != sections[start - 4]):
            if r - 1 > start and sections[start - 4]:
                merges.append(f"B{start}:B{r - 1}")
            start = r
    return xlsx_bytes(rows, title="名簿", merges=tuple(merges))


def row(number, section, job, name, wg="", role="", hq="", email=True):
    address = f"u{number}@city.kahoku.example" if email else ""
    return [number, section, job, name, address, wg, role, hq]


DECEMBER = [
    row("0001", "市長公室", "市長", "山田 太郎", hq="本部長"),
    row("1101", "総務課", "課長", "総務 一郎", "総務課WG", "リーダー", "本部員"),
    row("1102", "総務課", "主査", "総務 二郎", "総務課WG", "WG員"),
    row("1103", "総務課", "主事", "総務 三子", email=False),
    row("1201", "情報推進課", "課長", "情報 一郎", "情報推進課WG", "長", "本部員"),
    row("1202", "情報推進課", "主任", "情報 花子", "情報推進課WG、総務課WG", "WG員"),
    row("1301", "企画振興課", "課長", "企画 一郎", "企画振興課WG", "リーダー", "本部員"),
    row("1401", "市民生活課", "課長", "市民 一郎", hq="本部員"),
]
# rows 4..11 are people, 12 is blank, 13 the footnote


def r8() -> Plan:
    return Plan.objects.get(code="kahoku-dx-r3-r8")


def next_plan(plan: Plan) -> Plan:
    """The R9 plan with the bodies continued (what workgroups.services.bodies_continue does
    on main once merged): HQ and its seats, WGs with their sections and members."""
    new = Plan.objects.create(
        code="kahoku-dx-r9-r13",
        name="第2次かほく市DX推進計画",
        start_fy=2027,
        end_fy=2031,
        predecessor=plan,
        status="adopted",
    )
    hq = Headquarters.objects.create(plan=new, name=plan.headquarters.name)
    for seat in plan.headquarters.members.all():
        HeadquartersMember.objects.create(
            headquarters=hq,
            role=seat.role,
            title=seat.title,
            user=seat.user,
            section=seat.section,
            order=seat.order,
        )
    for wg in plan.working_groups.all():
        copy = WorkingGroup.objects.create(plan=new, name=wg.name, lead_section=wg.lead_section)
        copy.sections.set(wg.sections.all())
        for m in wg.memberships.all():
            WorkingGroupMembership.objects.create(working_group=copy, user=m.user, role=m.role)
    return new


def seats(plan: Plan) -> dict[str, tuple[str, str]]:
    return {
        s.user.username: (s.role, s.title)
        for s in HeadquartersMember.objects.filter(headquarters__plan=plan, user__isnull=False)
    }


def wgs_of(username: str, plan: Plan) -> set[tuple[str, str]]:
    return set(
        WorkingGroupMembership.objects.filter(
            user__username=username, working_group__plan=plan
        ).values_list("working_group__name", "role")
    )


def preview(data: bytes, today: date, effective: date, **kw):
    return roster.preview_roster(
        data=data, filename="meibo.xlsx", effective=effective, today=today, **kw
    )


def apply(data: bytes, today: date, effective: date, **kw):
    return services.staff_roster_apply(
        data=data, filename="meibo.xlsx", effective=effective, today=today, actor=None, **kw
    )


# --- the 本部での職名 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("section", "job", "department", "title"),
    [
        ("総務課", "課長", "", "総務課長"),
        ("総務課", "課長補佐", "", "総務課長補佐"),
        ("総務課", "主査", "", "総務課主査"),
        ("市長公室", "室長", "", "市長公室長"),
        ("総務課", "総務課長", "", "総務課長"),
        ("総務課", "総務部長", "", "総務部長"),
        ("総務課", "部長", "総務部", "総務部長"),
        ("市長公室", "市長", "", "市長"),
        ("市長公室", "副市長", "", "副市長"),
    ],
)
def test_hq_title_from_section_and_job_title(section, job, department, title):
    assert roster.hq_title(section, job, department) == title


# --- the city's roster: preview, then confirm on the screen -----------------------------------


@time_machine.travel(DEC_10, tick=False)
def test_city_roster_preview_lists_skipped_rows_new_section_and_no_error(plan):
    p = preview(city_roster(DECEMBER), date(2026, 12, 6), date(2026, 12, 6))
    assert p.errors == []
    assert [(s.row, s.text) for s in p.skipped] == [(12, ""), (13, FOOTNOTE)]
    assert p.new_sections == {"市長公室": 4}
    assert p.counts() == {"new": 8, "changed": 0, "leaving": 0, "unchanged": 0}
    states = {n.staff_number: n.state for n in p.new}
    assert states["1102"].section == "総務課"  # merged down
    assert states["1202"].wgs == (("情報推進課WG", "member"), ("総務課WG", "member"))
    assert states["1201"].wgs == (("情報推進課WG", "leader"),)
    assert [s.hq for s in states.values() if s.hq] == [
        ("chief", "市長"),
        ("member", "総務課長"),
        ("member", "情報推進課長"),
        ("member", "企画振興課長"),
        ("member", "市民生活課長"),
    ]
    assert p.plans == [plan]


@time_machine.travel(DEC_10, tick=False)
def test_city_roster_on_the_screen_preview_ok_then_confirm_ok(client, personas, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client.force_login(personas.secretariat)
    today = date.today()
    response = client.post(
        reverse("workgroups:staff_roster"),
        {"file": upload(city_roster(DECEMBER), "meibo.xlsx"), "effective": today.isoformat()},
    )
    page = response.content.decode()
    assert response.status_code == 200
    preview = response.context["preview"]
    assert preview.errors == [] and response.context["token"]
    assert "追加 8人、変更 0人、無効化 0人" in page
    assert "「市長公室」（4行目）: 新しい課として追加します。" in page
    assert f"13行目: 「{FOOTNOTE}」（注記として読み飛ばしました）" in page
    assert "12行目: 空行" in page
    assert "「かほく市DX推進計画」" in page  # the plan the WG and HQ changes go to
    # the personas' 本部長 (no staff number) keeps his seat: the roster's 本部長 is flagged
    assert any("本部長の席は名簿にないhonbuchoさんにもあります" in w for w in preview.warnings)
    done = client.post(
        reverse("workgroups:staff_roster_confirm"), {"token": response.context["token"]}
    )
    assert done["Location"] == reverse("workgroups:staff_roster_done")
    section = Section.objects.get(name="市長公室")
    assert section.history.count() == 1
    assert StaffProfile.objects.get(staff_number="0001").section == section
    held = seats(personas.wg.plan)
    assert {k: v for k, v in held.items() if k.isdigit()} == {
        "0001": ("chief", "市長"),
        "1101": ("member", "総務課長"),
        "1201": ("member", "情報推進課長"),
        "1301": ("member", "企画振興課長"),
        "1401": ("member", "市民生活課長"),
    }
    assert wgs_of("1202", personas.wg.plan) == {("情報推進課WG", "member"), ("総務課WG", "member")}
    # the next import of the same roster keeps every WG given and changes nothing
    again = preview_of_screen(client, city_roster(DECEMBER), today)
    assert again.counts() == {"new": 0, "changed": 0, "leaving": 0, "unchanged": 8}

    # one action mails the new accounts a set-password link; 1103 has no address
    page = client.get(reverse("workgroups:staff_roster_done")).content.decode()
    assert "新しい職員にパスワード設定メールを送る" in page
    assert "総務 三子" in page and "メールアドレスがないため送れない人" in page
    sent = client.post(reverse("workgroups:staff_roster_done"), follow=True)
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        f"u{r[0]}@city.kahoku.example" for r in DECEMBER if r[4]
    )
    assert "7人にパスワード設定メールを送りました" in sent.content.decode()
    assert "1103(総務 三子): メールアドレスが登録されていないため" in sent.content.decode()
    client.force_login(personas.leader)
    assert client.post(reverse("workgroups:staff_roster_done")).status_code == 403
    assert client.get(reverse("workgroups:staff_roster_done")).status_code == 403


def preview_of_screen(client, data: bytes, effective: date):
    response = client.post(
        reverse("workgroups:staff_roster"),
        {"file": upload(data, "meibo.xlsx"), "effective": effective.isoformat()},
    )
    assert response.status_code == 200
    return response.context["preview"]


@time_machine.travel(DEC_10, tick=False)
def test_city_roster_through_import_staff(plan, tmp_path, capsys):
    path = tmp_path / "meibo.xlsx"
    path.write_bytes(city_roster(DECEMBER))
    call_command("import_staff", str(path), "--dry-run")
    out = capsys.readouterr().out
    assert "追加 8人" in out and "新しい課: 「市長公室」(4行目)" in out
    assert f"読み飛ばした行: 13行目 「{FOOTNOTE}」(注記)" in out
    assert not Section.objects.filter(name="市長公室").exists()
    call_command("import_staff", str(path))
    assert seats(plan)["1201"] == ("member", "情報推進課長")
    call_command("import_staff", str(path))
    assert "追加 0人、変更 0人、無効化 0人、変更なし 8人" in capsys.readouterr().out


def test_role_words_people_write_and_roles_in_order(plan):
    people = [
        row("2001", "総務課", "", "a", "総務課WG", "ＷＧ長"),
        row("2002", "総務課", "", "b", "総務課WG", "委員"),
        row("2003", "総務課", "", "c", "総務課WG", "員"),
        row("2004", "情報推進課", "", "d", "情報推進課WG，総務課WG", "リーダー、メンバー"),
        row("2005", "情報推進課", "", "e", "情報推進課WG\n総務課WG", "班長"),
        row("2006", "情報推進課", "", "f", "情報推進課WG、総務課WG", "リーダー、メンバー、員"),
        row("2007", "情報推進課", "", "g", "情報推進課WG", "サブ"),
        row("2008", "情報推進課", "", "h", "無いWG"),
    ]
    p = preview(city_roster(people), date(2026, 12, 6), date(2026, 12, 6))
    wgs = {n.staff_number: n.state.wgs for n in p.new}
    assert wgs == {
        "2001": (("総務課WG", "leader"),),
        "2002": (("総務課WG", "member"),),
        "2003": (("総務課WG", "member"),),
        "2004": (("情報推進課WG", "leader"), ("総務課WG", "member")),
        "2005": (("情報推進課WG", "leader"), ("総務課WG", "leader")),
    }
    assert p.errors == [
        "シート「名簿」9行目 G列(WGでの役割)の「リーダー、メンバー、員」: 役割が3つ、WGが2つです。"
        "役割は1つ(全部のWGに同じ役割)か、WGと同じ順に同じ数だけ書いてください。",
        "シート「名簿」10行目 G列(WGでの役割)の「サブ」: WGでの役割は「リーダー」(WG長、長)か"
        "「メンバー」(WG員、員、委員)で入力してください。",
        "シート「名簿」11行目 F列(DX推進WG)の「無いWG」: 「無いWG」: "
        "このWGは計画「かほく市DX推進計画」に登録されていません。",
    ]
    # 2004 and 2005 both lead 情報推進課WG; 2001 and 2005 lead 総務課WG, 2005 from outside
    assert p.warnings == [
        "「情報推進課WG」のWG長が2人になります: d(7行目)、e(8行目)",
        "「総務課WG」のWG長が2人になります: a(4行目)、e(8行目)",
        "8行目: eさん(所属「情報推進課」)は「総務課WG」のWG長ですが、"
        "このWGの課(健康福祉課、総務課)の職員ではありません。",
    ]


def test_two_chiefs_are_an_error_with_row_and_cell(plan):
    people = [
        row("3001", "総務課", "市長", "a", hq="本部長"),
        row("3002", "総務課", "副市長", "b", hq="本部長"),
    ]
    p = preview(city_roster(people), date(2026, 12, 6), date(2026, 12, 6))
    assert p.errors == [
        "シート「名簿」5行目 H列(DX推進本部)の「本部長」: 本部長は1人です。4行目も本部長になっています。"
    ]


def test_confirm_failure_inside_a_write_names_the_row(plan, monkeypatch):
    """Should a write refuse what the preview passed, the confirm still names the row."""
    from django.core.exceptions import ValidationError

    from portal_lib.sheet_reading import SpreadsheetError

    def refuse(**kwargs):
        raise ValidationError("テスト用の拒否")

    monkeypatch.setattr(services, "staff_set_hq_seat", refuse)
    with pytest.raises(SpreadsheetError) as exc:
        apply(city_roster(DECEMBER[:2]), date(2026, 12, 6), date(2026, 12, 6))
    assert exc.value.messages == [
        "4行目(山田 太郎): テスト用の拒否",
        "5行目(総務 一郎): テスト用の拒否",
    ]
    assert not StaffProfile.objects.filter(staff_number="0001").exists()


# --- April: the chief replaced, three moved, one left, one joined -------------------------------

APRIL_ROSTER = [
    row("0001", "市長公室", "市長", "山田 太郎", hq="本部長"),
    # 1101 (総務課長) left; 1501 is the new 総務課長 and leads 総務課WG
    row("1501", "総務課", "課長", "総務 新", "総務課WG", "リーダー", "本部員"),
    row("1201", "情報推進課", "課長", "情報 一郎", "情報推進課WG", "長", "本部員"),
    row("1601", "情報推進課", "主事", "情報 新人", "情報推進課WG", "メンバー"),
    row("1102", "企画振興課", "主査", "総務 二郎", "企画振興課WG", "WG員"),  # moved
    row("1301", "企画振興課", "課長", "企画 一郎", "企画振興課WG", "リーダー", "本部員"),
    row("1202", "市民生活課", "主任", "情報 花子", "情報推進課WG、総務課WG", "WG員"),  # moved
    row("1401", "子育て支援課", "課長", "市民 一郎", hq="本部員"),  # moved
]


def test_april_roster_replaces_a_chief_in_one_import_and_leaves_the_r8_plan_alone(plan):
    with time_machine.travel(datetime(2026, 12, 10, 9, tzinfo=JST), tick=False):
        apply(city_roster(DECEMBER), date(2026, 12, 10), date(2026, 12, 10))
    r9 = next_plan(plan)
    r8_seats, r8_wgs = seats(plan), wgs_of("1101", plan)
    today, april = date(2027, 3, 25), date(2027, 4, 1)
    with time_machine.travel(datetime(2027, 3, 25, 9, tzinfo=JST), tick=False):
        p = preview(city_roster(APRIL_ROSTER, title="令和9年度 職員名簿"), today, april)
        assert p.errors == [] and p.plans == [r9] and p.confirmable
        assert p.counts() == {"new": 2, "changed": 3, "leaving": 2, "unchanged": 3}
        assert not any("WG長が2人" in w for w in p.warnings)
        done = apply(city_roster(APRIL_ROSTER, title="令和9年度 職員名簿"), today, april)
        assert done.counts() == p.counts()
    held = seats(r9)
    assert held["1501"] == ("member", "総務課長")  # the newcomer has the leaver's seat
    assert "1101" not in held
    assert held["1401"] == ("member", "子育て支援課長")
    assert wgs_of("1501", r9) == {("総務課WG", "leader")}
    assert wgs_of("1101", r9) == set()
    assert wgs_of("1102", r9) == {("企画振興課WG", "member")}
    assert wgs_of("1202", r9) == {("情報推進課WG", "member"), ("総務課WG", "member")}
    assert wgs_of("1601", r9) == {("情報推進課WG", "member")}
    assert not User.objects.get(username="1101").is_active
    assert not User.objects.get(username="1103").is_active
    assert StaffProfile.objects.get(staff_number="1102").section.name == "企画振興課"
    # the R8 plan keeps its people to 3/31: nothing of it was written
    assert seats(plan) == r8_seats and wgs_of("1101", plan) == r8_wgs
    assert wgs_of("1102", plan) == {("総務課WG", "member")}


def test_plan_option_overrides_the_plans_of_the_date(plan, tmp_path, capsys):
    with time_machine.travel(datetime(2027, 3, 25, 9, tzinfo=JST), tick=False):
        r9 = next_plan(plan)
        path = tmp_path / "meibo.xlsx"
        path.write_bytes(city_roster(DECEMBER))
        call_command("import_staff", str(path), "--plan", plan.code)
        assert "かほく市DX推進計画(kahoku-dx-r3-r8)" in capsys.readouterr().out
        assert seats(plan)["1101"] == ("member", "総務課長") and "1101" not in seats(r9)
        with pytest.raises(CommandError, match="計画がありません: nope"):
            call_command("import_staff", str(path), "--plan", "nope")


# --- April rehearsed in December --------------------------------------------------------------


def test_dry_run_in_december_for_april_first(plan, tmp_path, capsys):
    with time_machine.travel(datetime(2026, 12, 10, 9, tzinfo=JST), tick=False):
        apply(city_roster(DECEMBER), date(2026, 12, 10), date(2026, 12, 10))
    path = tmp_path / "april.xlsx"
    path.write_bytes(city_roster(APRIL_ROSTER))
    counts = (User.history.count(), StaffProfile.history.count())
    with time_machine.travel(datetime(2026, 12, 11, 9, tzinfo=JST), tick=False):
        # no R9 plan yet: checked against the plan in force, and said so
        call_command("import_staff", str(path), "--dry-run", "--effective", "2027-04-01")
        out = capsys.readouterr().out
        assert "追加 2人、変更 3人、無効化 2人、変更なし 3人" in out
        assert "WGと本部は今の計画「かほく市DX推進計画」で確かめました" in out
        assert "この名簿の取り込み(確定)は2027-03-01から行えます" in out
        # the confirm keeps the 31-day rule
        with pytest.raises(CommandError, match="確定は2027年3月1日から行えます"):
            call_command("import_staff", str(path), "--effective", "2027-04-01")
        # with the R9 plan drafted, the rehearsal checks against it
        r9 = next_plan(plan)
        call_command("import_staff", str(path), "--dry-run", "--effective", "2027-04-01")
        out = capsys.readouterr().out
        assert f"WGと本部の変更を書き込む計画: {r9.name}({r9.code})" in out
    assert (User.history.count(), StaffProfile.history.count()) == counts
    assert User.objects.get(username="1101").is_active


def test_screen_rehearses_april_in_december_without_a_confirm(client, personas):
    with time_machine.travel(datetime(2026, 12, 11, 9, tzinfo=JST), tick=False):
        client.force_login(personas.secretariat)
        response = client.post(
            reverse("workgroups:staff_roster"),
            {"file": upload(city_roster(APRIL_ROSTER), "meibo.xlsx"), "effective": "2027-04-01"},
        )
    page = response.content.decode()
    assert response.status_code == 200 and response.context["token"] == ""
    assert "2027年3月1日（適用日の31日前）から確定できます" in page
    assert "この内容で取り込む" not in page


# --- send_password_links for IT staff -----------------------------------------------------------


@time_machine.travel(DEC_10, tick=False)
def test_send_password_links_command(plan, settings, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    apply(city_roster(DECEMBER), date.today(), date.today())
    since = date.today().isoformat()
    with pytest.raises(CommandError, match="1人には送れません"):
        call_command("send_password_links", "--new-since", since, "--dry-run")
    captured = capsys.readouterr()
    assert "u1201@city.kahoku.example: 送ります(--dry-run のため送っていません)" in captured.out
    assert "1103(総務 三子): メールアドレスが登録されていないため" in captured.err
    assert mail.outbox == []
    with pytest.raises(CommandError):
        call_command("send_password_links", "--new-since", since)
    assert len(mail.outbox) == 7
    assert "7人に送りました" in capsys.readouterr().out
    # someone who has set a password is left alone; nothing created after tomorrow
    user = User.objects.get(username="1201")
    user.set_password("kahoku-Test-pass-2026")
    user.save()
    mail.outbox.clear()
    tomorrow = date.fromordinal(date.today().toordinal() + 1).isoformat()
    call_command("send_password_links", "--new-since", tomorrow)
    assert mail.outbox == [] and "0人に送りました" in capsys.readouterr().out
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("send_password_links", "--new-since", "昨日")


def test_notes_inside_the_table_and_a_repeated_header_are_skipped_not_people(plan):
    people = [
        row("4001", "総務課", "課長", "a"),
        ["注: 4月1日付の異動を反映"],
        HEADER,
        row("4002", "総務課", "", "b"),
        ["", "", "", "山田 次郎"],  # a person without a number: an error, not a note
        ["備考", "", "", "", "", "", "", "休職中の職員は含みません"],
    ]
    p = preview(city_roster(people), date(2026, 12, 6), date(2026, 12, 6))
    assert [n.staff_number for n in p.new] == ["4001", "4002"]
    assert [(s.row, s.text) for s in p.skipped] == [
        (5, "注: 4月1日付の異動を反映"),
        (6, "、".join(HEADER)),
        (9, "備考"),
        (10, ""),
        (11, FOOTNOTE),
    ]
    assert p.errors == [
        "シート「名簿」8行目 A列(職員番号)の「」: 職員番号がありません。",
        "シート「名簿」8行目 B列(所属)の「」: 所属がありません。",
    ]


def test_selectors_for_the_checklist_find_two_leaders_and_a_leader_from_outside(personas):
    from tests.factory import make_membership, make_user
    from workgroups.selectors import (
        working_groups_led_from_outside,
        working_groups_with_two_leaders,
    )

    plans = [personas.wg.plan]
    assert list(working_groups_with_two_leaders(plans)) == []
    assert list(working_groups_led_from_outside(plans)) == []
    second = make_user("second", section="情報推進課")
    make_membership(second, personas.wg, leader=True)
    outsider = make_user("outsider", section="市民生活課")
    make_membership(outsider, personas.other_wg, leader=True)
    assert list(working_groups_with_two_leaders(plans)) == [personas.wg]
    assert list(working_groups_led_from_outside(plans)) == [personas.other_wg]
    second.is_active = False
    second.save()
    assert working_groups_with_two_leaders(plans).count() == 0
