"""The city's real sequence from December 2026 to April 2027, end to end (issue 20).

One walk through the screens as the secretariat, a WG leader and the headquarters would do
it, with the clock moved by time-machine; the commands only where IT staff would run them:

1. the R3–R8 plan loaded (the ``plan`` fixture), a secretariat and a 本部長 of our own;
2. 2026-12-07: the city's roster (every section chief 課長 and 本部員, a footnote under the
   table) through the roster screen, preview → confirm;
3. the final-year (R8) reviews approved with 継続 / 拡充 / 廃止 / 完了, one left a draft;
4. 2027-01-12: the next plan created on the versions page, carried over, one carried
   initiative edited, one abolished and one added on the drafting screens;
5. 2027-02-10: the R8 actuals entered, carry-over run again (baselines refreshed, nothing
   twice, the draft decision still not carried, the abolished one not brought back);
6. 2027-02-20: adopted, in force from 2027-04-01;
7. 2027-03-25: logins set on the staff screens, then ``plan_switch_check`` all OK;
8. 2027-03-25: the April roster (a chief replaced, a member in two WGs, three moved, one
   left, one joined, a new section 市長公室) with 適用日 2027-04-01;
9. 2027-04-05: a WG leader sees the new plan's initiatives, logs progress and is reminded;
   the R8 records keep their WG and section as of their date.
"""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from initiatives.models import Indicator, Initiative, ProgressEntry, Review
from plans.models import BasicPolicy, Plan, PlanStatus
from tests.factory import PASSWORD, make_user, upload, xlsx_bytes
from workgroups.models import (
    HeadquartersMember,
    Section,
    StaffProfile,
    WorkingGroup,
    WorkingGroupMembership,
)

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

User = get_user_model()
pytestmark = pytest.mark.django_db
TOKYO = ZoneInfo("Asia/Tokyo")
R8 = "kahoku-dx-r3-r8"
R9 = "kahoku-dx-r9-r13"
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


def at(day: str, hour: int = 10) -> Any:
    return time_machine.travel(
        datetime.fromisoformat(day).replace(hour=hour, tzinfo=TOKYO), tick=False
    )


def person(number, section, job, name, wg="", role="", hq=""):
    return [number, section, job, name, f"u{number}@city.kahoku.example", wg, role, hq]


def roster_book(people: list[list], title: str) -> bytes:
    """Title row, blank row, the header, the people, a blank row and the footnote."""
    return xlsx_bytes([[title], [], HEADER, *people, [], [FOOTNOTE]], title="名簿")


# Every section chief is 課長 and 本部員; each leads their section's WG.
DECEMBER = [
    person("1101", "総務課", "課長", "総務 一郎", "総務課WG", "リーダー", "本部員"),
    person("1102", "総務課", "主査", "総務 二郎", "総務課WG", "WG員"),
    person("1201", "情報推進課", "課長", "情報 一郎", "情報推進課WG", "リーダー", "本部員"),
    person("1202", "情報推進課", "主任", "情報 花子", "情報推進課WG", "メンバー"),
    person("1203", "情報推進課", "主事", "情報 三郎", "情報推進課WG", "メンバー"),
    person("1301", "企画振興課", "課長", "企画 一郎", "企画振興課WG", "リーダー", "本部員"),
    person("1302", "企画振興課", "主事", "企画 二郎", "企画振興課WG", "メンバー"),
    person("1401", "市民生活課", "課長", "市民 一郎", "市民生活課WG", "リーダー", "本部員"),
    person("1501", "子育て支援課", "課長", "子育 一郎", "生活の安全・安心WG", "リーダー", "本部員"),
    person("1601", "産業振興課", "課長", "産業 一郎", "産業振興課WG", "リーダー", "本部員"),
    person("1701", "長寿介護課", "課長", "長寿 一郎", "長寿介護課WG", "リーダー", "本部員"),
]
# 1101 (総務課長) leaves and 1105 takes his seat and his WG; 1801 joins; 1102, 1203 and 1302
# move (1203 to the new 市長公室); 1202 is in two WGs.
APRIL = [
    person("1105", "総務課", "課長", "総務 新", "総務課WG", "リーダー", "本部員"),
    person("1102", "企画振興課", "主査", "総務 二郎", "企画振興課WG", "WG員"),
    person("1201", "情報推進課", "課長", "情報 一郎", "情報推進課WG", "リーダー", "本部員"),
    person("1202", "情報推進課", "主任", "情報 花子", "情報推進課WG、総務課WG", "WG員"),
    person("1203", "市長公室", "主事", "情報 三郎"),
    person("1301", "企画振興課", "課長", "企画 一郎", "企画振興課WG", "リーダー", "本部員"),
    person("1302", "総務課", "主事", "企画 二郎", "総務課WG", "メンバー"),
    person("1401", "市民生活課", "課長", "市民 一郎", "市民生活課WG", "リーダー", "本部員"),
    person("1501", "子育て支援課", "課長", "子育 一郎", "生活の安全・安心WG", "リーダー", "本部員"),
    person("1601", "産業振興課", "課長", "産業 一郎", "産業振興課WG", "リーダー", "本部員"),
    person("1701", "長寿介護課", "課長", "長寿 一郎", "長寿介護課WG", "リーダー", "本部員"),
    person("1801", "情報推進課", "主事", "新人 花子", "情報推進課WG", "メンバー"),
]
APRIL_COUNTS = {"new": 2, "changed": 4, "leaving": 1, "unchanged": 6}

# The R8 plan's final-year (FY2026) decisions, by initiative number.
APPROVED = {
    "1.1": "continue",
    "1.2": "continue",
    "1.3": "continue",
    "2.1": "expand",
    "2.2": "continue",
    "2.3": "continue",
    "2.4": "continue",
    "3.1": "complete",
    "3.2": "continue",
    "3.3": "continue",
    "3.4": "abolish",
    "3.5": "continue",
}
DRAFT_ONLY = "4.1"  # 継続 written, never submitted: carries nothing
CARRIED = sorted(code for code, d in APPROVED.items() if d in ("continue", "expand"))


def ok(response: Any, code: int) -> Any:
    assert response.status_code == code, (
        response.status_code,
        response.content.decode()[:2000],
    )
    return response


def flashes(response: Any) -> str:
    """The last message shown (the earlier ones pile up under redirects not followed)."""
    shown = [str(m) for m in response.context["messages"]] if response.context else []
    return shown[-1] if shown else ""


def r8_initiative(code: str) -> Initiative:
    policy, number = (int(x) for x in code.split("."))
    return Initiative.objects.get(policy__plan__code=R8, policy__number=policy, number=number)


def r9_carried(code: str) -> Initiative:
    return Initiative.objects.get(policy__plan__code=R9, carried_from=r8_initiative(code))


def seats(plan_code: str) -> dict[str, str]:
    return dict(
        HeadquartersMember.objects.filter(
            headquarters__plan__code=plan_code, user__isnull=False
        ).values_list("user__username", "title")
    )


def wgs_of(username: str, plan_code: str) -> set[tuple[str, str]]:
    return set(
        WorkingGroupMembership.objects.filter(
            user__username=username, working_group__plan__code=plan_code
        ).values_list("working_group__name", "role")
    )


def upload_roster(client: Client, data: bytes, effective: str) -> Any:
    """The roster screen: preview, then confirm with the preview's token."""
    response = ok(
        client.post(
            reverse("workgroups:staff_roster"),
            {"file": upload(data, "meibo.xlsx"), "effective": effective},
        ),
        200,
    )
    preview = response.context["preview"]
    assert preview.errors == [], preview.errors
    assert response.context["token"]
    page = response.content.decode()
    assert FOOTNOTE in page  # listed as skipped, not refused
    done = ok(
        client.post(
            reverse("workgroups:staff_roster_confirm"), {"token": response.context["token"]}
        ),
        302,
    )
    ok(client.get(done["Location"]), 200)
    return preview


def write_review(client: Client, ini: Initiative, decision: str) -> Review:
    ok(
        client.post(
            reverse("initiatives:review_edit", args=[ini.pk, 2026]),
            {
                "plan_text": f"{ini.title}の計画",
                "do_text": "実施した",
                "check_text": "概ね達成",
                "act_text": f"{ini.code}の改善:次期計画で{decision}",
                "self_grade": "B",
                "carry_over": decision,
                "carry_over_note": "",
                "version": "",
            },
        ),
        302,
    )
    return Review.objects.get(initiative=ini, fiscal_year=2026)


def set_password(client: Client, user: PortalUser) -> None:
    ok(
        client.post(
            reverse("workgroups:staff_password", args=[user.pk]),
            {"action": "set", "password1": PASSWORD, "password2": PASSWORD},
        ),
        302,
    )


def dd(page: str, term: str) -> str:
    """The text of the <dd> after <dt>term</dt> on a details list."""
    found = re.search(rf"<dt>{term}</dt><dd>(.*?)</dd>", page, re.S)
    assert found, term
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def follow_set_password_link(body: str, password: str) -> None:
    """The person opens the mailed link in a fresh browser and sets a password."""
    browser = Client()
    link = re.search(r"/accounts/reset/[^/\s]+/[^/\s]+/", body).group(0)
    form_url = ok(browser.get(link), 302)["Location"]
    ok(browser.get(form_url), 200)
    done = browser.post(form_url, {"new_password1": password, "new_password2": password})
    assert done["Location"] == reverse("password_reset_complete")


@pytest.fixture(autouse=True)
def _japanese():
    """Messages and pages are read in Japanese, whatever an earlier test left active."""
    with translation.override("ja"):
        yield


def test_the_city_from_december_2026_to_april_2027(client, plan, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    secretariat = make_user("jimukyoku", role=StaffProfile.Role.SECRETARIAT, section="情報推進課")
    hq = make_user("honbucho", role=StaffProfile.Role.HEADQUARTERS, display_name="本部長")
    HeadquartersMember.objects.filter(headquarters__plan=plan, title="市長").update(user=hq)

    # --- 2. December: the city's roster, every chief 課長 and 本部員, a footnote ------------
    with at("2026-12-07"):
        client.force_login(secretariat)
        preview = upload_roster(client, roster_book(DECEMBER, "令和8年度 職員名簿"), "2026-12-07")
        assert preview.counts() == {"new": 11, "changed": 0, "leaving": 0, "unchanged": 0}
        assert FOOTNOTE in [s.text for s in preview.skipped]
        # one action mails every new account a set-password link
        mail.outbox.clear()
        sent = ok(client.post(reverse("workgroups:staff_roster_done"), follow=True), 200)
        assert flashes(sent) == "11人にパスワード設定メールを送りました。"
        assert sorted(m.to[0] for m in mail.outbox) == sorted(r[4] for r in DECEMBER)
        mine = next(m for m in mail.outbox if m.to == ["u1201@city.kahoku.example"])
        follow_set_password_link(mine.body, "Johosuishin-2026-dx")
        assert User.objects.get(username="1201").check_password("Johosuishin-2026-dx")
    chiefs = {r[0]: f"{r[1]}長" for r in DECEMBER if r[7] == "本部員"}
    assert {k: v for k, v in seats(R8).items() if k.isdigit()} == chiefs
    assert seats(R8)["honbucho"] == "市長"
    assert wgs_of("1101", R8) == {("総務課WG", "leader")}
    assert wgs_of("1202", R8) == {("情報推進課WG", "member")}

    # --- 3. the final-year reviews and the indicators (December) ----------------------------
    with at("2026-12-10"):
        # a member logs R8 progress (a past record by April)
        client.force_login(User.objects.get(username="1102"))
        ok(
            client.post(
                reverse("initiatives:progress_create", args=[r8_initiative("3.2").pk]),
                {
                    "entry_date": "2026-12-10",
                    "status": "on_track",
                    "percent": "70",
                    "done_text": "押印の見直しを終えた",
                    "next_steps": "",
                    "issues_text": "",
                },
            ),
            302,
        )
        client.force_login(secretariat)
        for code in CARRIED:
            ini = r8_initiative(code)
            ok(
                client.post(
                    reverse("initiatives:indicator_create", args=[ini.pk]),
                    {
                        "name": f"指標{code}",
                        "unit": "件",
                        "direction": "higher",
                        "baseline": "10",
                        "baseline_fy": "R3",
                        "target_2026": "100",
                        "actual_2025": "50",
                    },
                ),
                302,
            )
        # the WG leader writes and submits 2.1 himself; the secretariat writes the others
        leader = User.objects.get(username="1201")
        client.force_login(leader)
        reviews = {"2.1": write_review(client, r8_initiative("2.1"), APPROVED["2.1"])}
        ok(client.post(reverse("initiatives:review_submit", args=[reviews["2.1"].pk])), 302)
        client.force_login(secretariat)
        for code, decision in APPROVED.items():
            if code != "2.1":
                reviews[code] = write_review(client, r8_initiative(code), decision)
                ok(client.post(reverse("initiatives:review_submit", args=[reviews[code].pk])), 302)
        draft = write_review(client, r8_initiative(DRAFT_ONLY), "continue")
        for review in reviews.values():
            ok(
                client.post(reverse("initiatives:review_check", args=[review.pk]), {"comment": ""}),
                302,
            )
        client.force_login(hq)
        for review in reviews.values():
            ok(client.post(reverse("initiatives:review_approve", args=[review.pk])), 302)
    states = dict(
        Review.objects.filter(initiative__policy__plan=plan, fiscal_year=2026).values_list(
            "initiative__title", "state"
        )
    )
    assert sorted(states.values()).count("approved") == 12
    draft.refresh_from_db()
    assert (draft.state, draft.carry_over) == ("draft", "continue")

    # --- 4. the next plan created and drafted on screens (January) --------------------------
    with at("2027-01-12"):
        client.force_login(secretariat)
        page = ok(client.get(reverse("reporting:versions")), 200).content.decode()
        assert 'value="R9"' in page
        ok(
            client.post(
                reverse("reporting:versions"),
                {
                    "action": "next",
                    "plan": R8,
                    "code": R9,
                    "name": "第2期かほく市DX推進計画",
                    "theme": "誰一人取り残さないデジタル化",
                    "start_fy": "R9",
                    "end_fy": "R13",
                    "version_number": "2.0",
                },
            ),
            302,
        )
        r9 = Plan.objects.get(code=R9)
        assert (r9.start_fy, r9.end_fy, r9.status, r9.predecessor) == (
            2027,
            2031,
            PlanStatus.DRAFT,
            plan,
        )
        # the bodies continue: the same WGs, people and seats
        assert set(WorkingGroup.objects.filter(plan=r9).values_list("name", flat=True)) == set(
            WorkingGroup.objects.filter(plan=plan).values_list("name", flat=True)
        )
        assert seats(R9) == seats(R8)
        assert wgs_of("1101", R9) == {("総務課WG", "leader")}

        # April rehearsed in January: the preview checks against the new plan, no confirm yet
        rehearsal = ok(
            client.post(
                reverse("workgroups:staff_roster"),
                {
                    "file": upload(roster_book(APRIL, "令和9年度 職員名簿"), "meibo.xlsx"),
                    "effective": "2027-04-01",
                },
            ),
            200,
        )
        assert rehearsal.context["preview"].errors == []
        assert rehearsal.context["preview"].counts() == APRIL_COUNTS
        assert [p.code for p in rehearsal.context["preview"].plans] == [R9]
        assert rehearsal.context["token"] == ""  # the confirm waits for 31 days before
        assert wgs_of("1105", R9) == set()  # nothing written

        carry_url = reverse("reporting:carry_over")
        preview_page = ok(client.get(carry_url, {"source": R8, "target": R9}), 200)
        lines = {line.initiative.code: line for line in preview_page.context["lines"]}
        assert lines[DRAFT_ONLY].action == "unapproved"
        assert "未承認" in preview_page.content.decode()
        assert {c for c, line in lines.items() if line.action == "create"} == set(CARRIED)
        assert {c for c, line in lines.items() if line.action == "ended"} == {"3.1", "3.4"}
        response = ok(client.post(carry_url, {"source": R8, "target": R9}, follow=True), 200)
        assert f"{len(CARRIED)}件の取り組みを「第2期かほく市DX推進計画」へ引き継ぎ" in flashes(
            response
        )
        assert Initiative.objects.filter(policy__plan=r9).count() == len(CARRIED)
        first = Indicator.objects.get(initiative=r9_carried("2.1"))
        assert (first.baseline, first.baseline_fy) == (Decimal("50"), 2025)

        # one edited (2.1, carried with 拡充), one abolished (1.3), one added (3.x)
        edited = r9_carried("2.1")
        draft_url = reverse("reporting:draft", args=[R9])
        ok(client.get(draft_url), 200)
        ok(
            client.post(
                reverse("reporting:draft_initiative", args=[R9, edited.pk]),
                {
                    "policy": edited.policy_id,
                    "number": edited.number,
                    "title": "行政サービスのオンライン化の拡充",
                    "description": "すべての申請をオンラインで",
                    "flag": edited.flag,
                    "national_items": list(edited.national_items.values_list("pk", flat=True)),
                    "working_group": edited.working_group_id,
                    "lead_section": edited.lead_section_id or "",
                    "version": edited.version,
                },
            ),
            302,
        )
        edited.refresh_from_db()
        assert edited.title == "行政サービスのオンライン化の拡充"
        abolished = r9_carried("1.3")
        ok(
            client.post(
                reverse("reporting:draft_action", args=[R9, "initiative", abolished.pk, "delete"])
            ),
            302,
        )
        assert not Initiative.objects.filter(pk=abolished.pk).exists()
        policy3 = BasicPolicy.objects.get(plan=r9, number=3)
        info_wg = WorkingGroup.objects.get(plan=r9, name="情報推進課WG")
        ok(
            client.post(
                reverse("reporting:draft_initiative_new", args=[R9]),
                {
                    "policy": policy3.pk,
                    "number": "",
                    "title": "生成AIの業務活用",
                    "description": "文書作成に生成AIを使う",
                    "flag": "",
                    "working_group": info_wg.pk,
                    "lead_section": Section.objects.get(name="情報推進課").pk,
                },
            ),
            302,
        )
        added = Initiative.objects.get(policy=policy3, title="生成AIの業務活用")
        assert added.carried_from is None
        ok(
            client.post(
                reverse("reporting:draft_indicator_new", args=[R9, added.pk]),
                {
                    "name": "生成AIの利用件数",
                    "unit": "件",
                    "direction": "higher",
                    "baseline": "0",
                    "baseline_fy": "R8",
                    "target_2027": "100",
                    "target_2031": "1000",
                },
            ),
            302,
        )

    # --- 5. the R8 actuals entered, carry-over again (February) -----------------------------
    with at("2027-02-10"):
        client.force_login(secretariat)
        for code in CARRIED:
            ind = Indicator.objects.get(initiative=r8_initiative(code))
            ok(
                client.post(
                    reverse("initiatives:indicator_edit", args=[ind.pk]),
                    {
                        "name": ind.name,
                        "unit": "件",
                        "direction": "higher",
                        "baseline": "10",
                        "baseline_fy": "R3",
                        "target_2026": "100",
                        "actual_2025": "50",
                        "actual_2026": "80",
                        "version": ind.version,
                    },
                ),
                302,
            )
        before = set(Initiative.objects.filter(policy__plan=r9).values_list("pk", flat=True))
        response = ok(client.post(carry_url, {"source": R8, "target": R9}, follow=True), 200)
        assert flashes(response) == (
            f"0件の取り組みを「第2期かほく市DX推進計画」へ引き継ぎ、{len(CARRIED) - 1}件を更新しました。"
        )
        lines = {line.initiative.code: line for line in response.context["lines"]}
        assert lines["1.3"].action == "dropped" and lines[DRAFT_ONLY].action == "unapproved"
        assert {c for c, line in lines.items() if line.action == "refresh"} == set(CARRIED) - {
            "1.3"
        }
        after = set(Initiative.objects.filter(policy__plan=r9).values_list("pk", flat=True))
        assert after == before  # nothing created twice, the abolished one not brought back
        assert len(after) == len(CARRIED)  # - 1.3 abolished + 生成AI added
        assert not Initiative.objects.filter(
            policy__plan=r9, carried_from=r8_initiative(DRAFT_ONLY)
        ).exists()
        assert not Initiative.objects.filter(
            policy__plan=r9, carried_from=r8_initiative("1.3")
        ).exists()
        for code in CARRIED:
            if code == "1.3":
                continue
            ind = Indicator.objects.get(initiative=r9_carried(code))
            assert (ind.baseline, ind.baseline_fy) == (Decimal("80"), 2026), code
        edited.refresh_from_db()
        assert edited.title == "行政サービスのオンライン化の拡充"  # the edit survives

    # --- 6. adopted on 2027-02-20, in force from 2027-04-01 ---------------------------------
    with at("2027-02-20"):
        client.force_login(secretariat)
        response = ok(
            client.post(
                reverse("reporting:versions"),
                {
                    "action": "adopt",
                    "plan": R9,
                    "adopted_on": "2027-02-20",
                    "in_force_from": "2027-04-01",
                    "summary": "第2期計画の策定",
                },
                follow=True,
            ),
            200,
        )
        assert not [m for m in response.context["messages"] if m.level_tag == "error"], flashes(
            response
        )
        r9.refresh_from_db()
        assert r9.status == PlanStatus.ADOPTED
        assert r9.in_force_from == date(2027, 4, 1)
        version = r9.versions.get()
        assert version.frozen_at is not None

    # --- 7. 2027-03-25: logins set on screens, then the switch check all OK -----------------
    with at("2027-03-25"):
        client.force_login(secretariat)
        people = User.objects.filter(username__in=[r[0] for r in DECEMBER]).order_by("username")
        waiting = [u for u in people if not u.has_usable_password()]
        # the roster's accounts never set a password (1201 did, from his mail)
        assert [u.username for u in waiting] == [r[0] for r in DECEMBER if r[0] != "1201"]
        out = io.StringIO()
        with pytest.raises(SystemExit) as exit_:
            call_command("plan_switch_check", "--plan", R9, "--on", "2027-04-01", stdout=out)
        assert exit_.value.code == 1
        assert "【要対応】" in out.getvalue() and "要対応 1件" in out.getvalue(), out.getvalue()
        assert "総務 一郎" in out.getvalue()
        for user in waiting:  # the secretariat sets them on the staff screen
            set_password(client, user)
        out = io.StringIO()
        call_command("plan_switch_check", "--plan", R9, "--on", "2027-04-01", stdout=out)
        text = out.getvalue()  # returned: exit status 0
        assert "要対応" not in text and text.rstrip().endswith("すべてOKです。"), text
        assert text.count("【OK】") >= 8
        page = ok(
            client.get(reverse("reporting:plan_switch"), {"plan": R9, "on": "2027-04-01"}), 200
        )
        assert page.context["pending"] == 0 and page.context["plan"] == r9
        assert [c.status for c in page.context["checks"]] == ["OK"] * len(page.context["checks"])

    # --- 8. 2027-03-25: the April roster with 適用日 2027-04-01 ---------------------------
    r8_seats = seats(R8)
    r8_wgs = {u: wgs_of(u, R8) for u in ("1101", "1102", "1202", "1302")}
    with at("2027-03-25"):
        client.force_login(secretariat)
        preview = upload_roster(client, roster_book(APRIL, "令和9年度 職員名簿"), "2027-04-01")
        assert preview.counts() == APRIL_COUNTS
        assert preview.new_sections == {"市長公室": 8}
        assert [p.code for p in preview.plans] == [R9]
        # the two new accounts get their set-password mails in one action
        mail.outbox.clear()
        sent = ok(client.post(reverse("workgroups:staff_roster_done"), follow=True), 200)
        assert flashes(sent) == "2人にパスワード設定メールを送りました。"
        assert sorted(m.to[0] for m in mail.outbox) == [
            "u1105@city.kahoku.example",
            "u1801@city.kahoku.example",
        ]
    held = seats(R9)
    assert held["1105"] == "総務課長" and "1101" not in held  # the newcomer took the seat
    assert held["honbucho"] == "市長"
    assert wgs_of("1105", R9) == {("総務課WG", "leader")}
    assert wgs_of("1101", R9) == set()
    assert wgs_of("1102", R9) == {("企画振興課WG", "member")}
    assert wgs_of("1202", R9) == {("情報推進課WG", "member"), ("総務課WG", "member")}
    assert wgs_of("1203", R9) == set()
    assert wgs_of("1302", R9) == {("総務課WG", "member")}
    assert wgs_of("1801", R9) == {("情報推進課WG", "member")}
    assert not User.objects.get(username="1101").is_active
    assert StaffProfile.objects.get(staff_number="1203").section.name == "市長公室"
    assert StaffProfile.objects.get(staff_number="1102").section.name == "企画振興課"
    # the R8 plan keeps its people to 3/31
    assert seats(R8) == r8_seats
    assert {u: wgs_of(u, R8) for u in r8_wgs} == r8_wgs

    # --- 8b. 2027-03-26: 情報推進課 becomes DX推進課 and its WG DX推進WG from 4/1 (screens) --
    info = Section.objects.get(name="情報推進課")
    with at("2027-03-26"):
        client.force_login(secretariat)
        ok(
            client.post(
                reverse("workgroups:sections"),
                {
                    "kind": "rename",
                    "rename-section": info.pk,
                    "rename-new_name": "DX推進課",
                    "rename-effective": "令和9年4月1日",
                },
            ),
            302,
        )
        ok(
            client.post(
                reverse("workgroups:working_groups"),
                {
                    "plan": R9,
                    "kind": "rename",
                    "rename-working_group": info_wg.pk,
                    "rename-new_name": "DX推進WG",
                    "rename-effective": "2027-04-01",
                },
            ),
            302,
        )
    info.refresh_from_db()
    assert info.name == "情報推進課"  # until 4/1
    assert WorkingGroup.objects.get(pk=info_wg.pk).name == "DX推進WG"
    assert WorkingGroup.objects.filter(plan=plan, name="情報推進課WG").exists()
    with at("2027-04-01", hour=1):  # the cron of 4/1
        call_command("apply_section_names", stdout=io.StringIO())
    info.refresh_from_db()
    assert info.name == "DX推進課"

    # --- 9. 2027-04-05: the new plan's first days -------------------------------------------
    with at("2027-04-05"):
        # the leader signs in with the password he set from his December mail
        signed_in = ok(
            client.post(reverse("login"), {"username": "1201", "password": "Johosuishin-2026-dx"}),
            302,
        )
        assert signed_in["Location"] == "/"
        home = ok(client.get(reverse("home")), 200)
        assert home.context["user"] == leader
        mine = [ini.pk for ini in home.context["my_initiatives"]]
        expected = list(
            Initiative.objects.filter(policy__plan=r9, working_group=info_wg)
            .order_by("policy__number", "number")
            .values_list("pk", flat=True)
        )
        assert mine == expected and added.pk in mine and edited.pk in mine
        assert "担当しているWGの取り組みはありません" not in home.content.decode()
        ok(
            client.post(
                reverse("initiatives:progress_create", args=[edited.pk]),
                {
                    "entry_date": "2027-04-05",
                    "status": "on_track",
                    "percent": "5",
                    "done_text": "R9の電子申請の対象を決めた",
                    "next_steps": "",
                    "issues_text": "",
                },
            ),
            302,
        )
        entry = ProgressEntry.objects.get(initiative=edited)
        assert (entry.fiscal_year, entry.author) == (2027, leader)
        mail.outbox.clear()
        call_command("send_reminders", stdout=io.StringIO())
        to_leader = [m for m in mail.outbox if m.to == ["u1201@city.kahoku.example"]]
        assert len(to_leader) == 1
        body = to_leader[0].body
        assert "生成AIの業務活用" in body and "行政サービスのオンライン化の拡充" not in body
        assert "u1101@city.kahoku.example" not in [m.to[0] for m in mail.outbox]

        # the secretariat's checklist and staff form work on the plan in force
        client.force_login(secretariat)
        home = ok(client.get(reverse("home")), 200)
        assert {"wg_leaders", "initiative_wg"}.isdisjoint(i.key for i in home.context["checklist"])
        newcomer = User.objects.get(username="1801")
        form = ok(client.get(reverse("workgroups:staff_edit", args=[newcomer.pk])), 200)
        text = form.content.decode()
        assert "この計画にはWGがありません" not in text and "DX推進WG" in text

        # past records keep their WG and section as of their date
        old = r8_initiative("3.2")
        assert old.working_group.plan_id == plan.pk
        page = ok(client.get(reverse("initiatives:detail", args=[old.pk]), {"fy": 2026}), 200)
        text = page.content.decode()
        assert "総務課WG" in text and "押印の見直しを終えた" in text
        old_entry = ProgressEntry.objects.get(initiative=old)
        assert old_entry.fiscal_year == 2026
        assert old_entry.initiative.working_group.memberships.filter(
            user__username="1101", role="leader"
        ).exists()
        review = Review.objects.get(initiative=old, fiscal_year=2026)
        assert review.state == "approved"
        ok(client.get(reverse("initiatives:review", args=[review.pk])), 200)
        assert r9_carried("3.2").working_group.plan_id == r9.pk
        # the R8 initiative 2.1 keeps 情報推進課WG and 情報推進課; its R9 successor is renamed
        old = r8_initiative("2.1")
        text = ok(client.get(reverse("initiatives:detail", args=[old.pk])), 200).content.decode()
        assert dd(text, "担当WG") == "情報推進課WG" and "DX推進WG" not in text
        assert dd(text, "主管課").startswith("情報推進課")  # today's name only as a hint
        new = ok(client.get(reverse("initiatives:detail", args=[edited.pk])), 200)
        text = new.content.decode()
        assert (dd(text, "担当WG"), dd(text, "主管課")) == ("DX推進WG", "DX推進課")
        review = Review.objects.get(initiative=old, fiscal_year=2026)
        text = ok(client.get(reverse("initiatives:review", args=[review.pk])), 200).content.decode()
        assert "DX推進WG" not in text and "DX推進課" not in text
