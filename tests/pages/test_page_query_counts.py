"""Every list page and the dashboard, whole requests: a query count under an absolute limit
that is the same on small and on large data (issue 13).

Each page is requested by a user who really logged in (POST /accounts/login/), so the count
is everything the request runs: the session, the user, the roles and the page's own reads.
"Small" is the plan fixture with one row of each kind (so that every prefetch runs); "large"
adds 45 initiatives with entries, reviews, indicators and projects, 60 entries on the
initiative whose page is read, procedures, systems, staff, sections, meeting reports, API
accounts, plan versions and the history all of that writes.

`test_every_url_name_is_classified` fails when a URL name appears that is neither in
LIST_PAGES nor in NOT_LIST_PAGES: a new screen has to say which it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from initiatives import services
from initiatives.models import (
    CountableTarget,
    Indicator,
    IndicatorValue,
    Initiative,
    ProgressEntry,
    ProjectUnderWay,
    Review,
    StandardSystem,
)
from plans.models import Plan, PlanVersion, ScheduleCell, ScheduleItem, ScheduleRow
from reporting.api.accounts import service_account_create
from reporting.models import ReportSnapshot
from reporting.services.meeting_reports import report_snapshot_create
from reporting.services.versions import plan_create_next, version_freeze
from tests.factory import (
    PASSWORD,
    PLAN_CODE,
    REVIEW_COMPLETE,
    initiative,
    make_membership,
    make_procedure,
    make_user,
)
from workgroups.models import Section, SectionName, WorkingGroup

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 24)  # 令和8年度
FY = 2026
DASHBOARD_LIMIT = 12  # issue 13: the whole dashboard page, whatever the data


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    monkeypatch.setattr("initiatives.views._today", lambda: TODAY)


# --------------------------------------------------------------------------------------------
# The data: a seed (one row of each kind) and the growth
# --------------------------------------------------------------------------------------------


@dataclass
class World:
    personas: Any
    main: Initiative  # 2.1, whose own pages are read
    review: Review  # its FY2026 review, submitted
    entry: ProgressEntry
    snapshot: ReportSnapshot
    version: PlanVersion
    next_plan: Plan


def seed(personas) -> World:
    """The plan fixture plus one row of each kind the pages list."""
    main = initiative("2.1")
    entry = services.progress_entry_create(
        actor=personas.member,
        initiative=main,
        entry_date=date(2026, 6, 1),
        status="on_track",
        percent=30,
        done_text="実施",
        next_steps="",
        issues_text="",
    )
    target = CountableTarget.objects.get(code="online-procedures")
    ind = Indicator.objects.create(initiative=main, name="指標0", countable_target=target)
    IndicatorValue.objects.create(indicator=ind, fiscal_year=FY, target=10, actual=1)
    ProjectUnderWay.objects.create(
        initiative=main,
        era_label="R3",
        fiscal_year=2021,
        name="事業0",
        section=main.lead_section or Section.objects.first(),
    )
    review = Review.objects.create(initiative=main, fiscal_year=FY, **REVIEW_COMPLETE)
    review = services.review_submit(actor=personas.leader, review=review)
    main.is_public = True
    main.public_fields = ["description", "progress", "projects", "indicators"]
    main.save()
    make_procedure(1)
    plan = main.policy.plan
    snapshot = report_snapshot_create(
        plan=plan, fiscal_year=FY, title="第1回", today=TODAY, user=personas.secretariat
    )
    service_account_create(
        actor=personas.secretariat, username="bi-0", display_name="BI0", working_group=None
    )
    next_plan = plan_create_next(
        actor=personas.secretariat,
        source=plan,
        code="kahoku-dx-r9-r14",
        name="次期計画",
        theme="次期",
        start_fy=2027,
        end_fy=2032,
        version_number="0.5",
    )
    version = PlanVersion.objects.filter(plan=plan).order_by("issued_fy", "number").last()
    version = version_freeze(actor=personas.secretariat, version=version, refreeze=True)
    return World(personas, main, review, entry, snapshot, version, next_plan)


def grow(world: World, count: int = 45) -> None:
    """Many more rows of every kind the pages list (and their history)."""
    p = world.personas
    main = world.main
    policy, wg, section = main.policy, p.wg, main.lead_section or Section.objects.first()
    from workgroups.services import staff_update

    for n in range(count * 3):  # a person's history beyond the 100 lines their page shows
        staff_update(
            actor=p.secretariat,
            user=p.member,
            display_name=f"メンバー{n}",
            email=p.member.email,
            section=p.member.profile.section,
            role="staff",
        )
    bulk_create_with_history(
        [
            Initiative(
                policy=policy,
                number=100 + n,
                title=f"追加の取り組み{n}",
                working_group=wg if n % 2 else p.other_wg,
                lead_section=section,
                is_public=True,
                public_fields=["description", "progress", "projects", "indicators"],
            )
            for n in range(count)
        ],
        Initiative,
        default_user=p.secretariat,
    )
    new = list(Initiative.objects.filter(policy=policy, number__gte=100).order_by("number"))
    entries = [
        ProgressEntry(
            initiative=ini,
            entry_date=date(2026, 4 + k, 1 + n % 27),
            fiscal_year=FY,
            status=("on_track", "delayed", "done")[(n + k) % 3],
            percent=(n * 7 + k) % 100,
            author=p.member,
        )
        for n, ini in enumerate(new)
        for k in range(3)
    ]
    # 60 more on the initiative whose page is read (two years of fortnightly logging)
    entries += [
        ProgressEntry(
            initiative=main,
            entry_date=date(2024, 4, 2) + timedelta(days=12 * k),
            fiscal_year=2024 if k < 30 else 2025,
            status="on_track",
            percent=k,
            done_text=f"実施{k}",
            author=p.member,
        )
        for k in range(60)
    ]
    bulk_create_with_history(entries, ProgressEntry, default_user=p.member)
    states = ("submitted", "checked", "draft", "returned", "approved")
    bulk_create_with_history(
        [
            Review(initiative=ini, fiscal_year=FY, state=states[n % 5], **REVIEW_COMPLETE)
            for n, ini in enumerate(new)
        ]
        + [
            Review(initiative=main, fiscal_year=fy, state="approved", **REVIEW_COMPLETE)
            for fy in range(2021, FY)
        ],
        Review,
        default_user=p.leader,
    )
    for review in Review.objects.filter(initiative=main, fiscal_year__lt=FY):
        for to_state in ("submitted", "checked", "approved"):
            review.events.create(actor=p.secretariat, to_state=to_state)
    for _ in range(8):  # the main review moves back and forth
        world.review.events.create(actor=p.secretariat, from_state="submitted", to_state="returned")
    target = CountableTarget.objects.get(code="online-procedures")
    bulk_create_with_history(
        [
            Indicator(
                initiative=ini,
                name=f"指標{n}-{k}",
                countable_target=target if k == 0 else None,
            )
            for n, ini in enumerate([*new, main])
            for k in range(2)
        ],
        Indicator,
        default_user=p.member,
    )
    indicators = list(Indicator.objects.filter(initiative__in=[*new, main]))
    bulk_create_with_history(
        [
            IndicatorValue(indicator=ind, fiscal_year=fy, target=10, actual=n % 12)
            for n, ind in enumerate(indicators)
            for fy in (2025, FY)
            if not IndicatorValue.objects.filter(indicator=ind, fiscal_year=fy).exists()
        ],
        IndicatorValue,
        default_user=p.member,
    )
    bulk_create_with_history(
        [
            ProjectUnderWay(
                initiative=ini,
                era_label="R4",
                fiscal_year=2022,
                name=f"事業{n}",
                section=section,
            )
            for n, ini in enumerate(new)
        ],
        ProjectUnderWay,
        default_user=p.secretariat,
    )
    for n in range(2, 28):
        make_procedure(n, f"手続{n}", status="online", online_on=date(2022, 4, n))
    for n in range(28, 40):
        make_procedure(n, f"追加手続{n}")
    first = StandardSystem.objects.order_by("number").first()
    for n in range(21, 36):
        StandardSystem.objects.create(group=first.group, number=n, name=f"システム{n}")
    wgs = list(WorkingGroup.objects.filter(plan=policy.plan))
    for n in range(40):
        user = make_user(f"staff{n:02d}", section=section.name)
        make_membership(user, wgs[n % len(wgs)], leader=n % 7 == 0)
    for n in range(12):
        s = Section.objects.create(name=f"新設課{n}", order=100 + n)
        SectionName.objects.create(
            section=s, name=f"新設課{n}", previous_name=f"旧課{n}", valid_from_fy=2025
        )
    data = world.snapshot.data
    ReportSnapshot.objects.bulk_create(
        [
            ReportSnapshot(
                plan=policy.plan, fiscal_year=FY, title=f"第{n}回", taken_by=p.hq, data=data
            )
            for n in range(2, 40)
        ]
    )
    for n in range(1, 8):
        service_account_create(
            actor=p.secretariat,
            username=f"bi-{n}",
            display_name=f"BI{n}",
            working_group=wgs[n % len(wgs)] if n % 2 else None,
        )
    for n in range(6):
        PlanVersion.objects.create(plan=policy.plan, number=f"1.{n + 1}", issued_fy=2022 + n % 4)
    item = ScheduleItem.objects.create(plan=policy.plan, order=900, title="追加の項目")
    for line, ini in enumerate(new[:20], start=1):
        row = ScheduleRow.objects.create(item=item, line=line, sub_title=ini.title, initiative=ini)
        ScheduleCell.objects.create(row=row, fiscal_year=FY, text=f"予定{line}")
    entry = world.entry
    for version in range(1, 26):  # the entry's own history, beyond the 20 its page shows
        entry = services.progress_entry_update(
            actor=p.member,
            entry=entry,
            version=version,
            entry_date=entry.entry_date,
            status="on_track",
            percent=30 + version,
            done_text=f"実施{version}",
            next_steps="",
            issues_text="",
        )
    # The frozen pages read what was frozen: freeze again, on the large data.
    world.snapshot.data = report_snapshot_create(
        plan=policy.plan, fiscal_year=FY, title="大", today=TODAY, user=p.secretariat
    ).data
    world.snapshot.save()
    version_freeze(actor=p.secretariat, version=world.version, refreeze=True)


# --------------------------------------------------------------------------------------------
# The pages
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    name: str  # URL name
    user: str  # persona who reads it ("anonymous": nobody logged in)
    limit: int  # absolute query limit of the whole request (the count measured, pinned)
    bound: str  # how the rows it shows are bounded
    args: Callable[[World], list[Any]] = lambda w: []
    params: Callable[[World], dict[str, Any]] = lambda w: {}
    grows: bool = True  # False: nothing the page shows grows for this user (said why)

    @property
    def id(self) -> str:
        return f"{self.name}-{self.user}"


PAGINATED = "paginated, the filters kept in the page links"
FIRST = "a bounded first part with the total and a link to the full list"
DOMAIN = "bounded by the plan or the organisation, not by the activity logged"
DOCUMENT = "a document shown whole by design, with its file download"

LIST_PAGES: list[Page] = [
    # home: to-do lists of 50 at most (reviews: newest year first, with the total)
    Page("home", "secretariat", 15, FIRST),  # the checklist: the plan in force, 10 items
    # HQ (issue 21): + the plan's roll-up (1), the 27/20 targets and their rows (3), the last
    # meeting report (1) and what moved since it: entries, review moves, indicator values (3)
    Page("home", "hq", 12, FIRST),
    Page("home", "leader", 5, FIRST),
    Page("home", "member", 5, FIRST),
    Page("home", "viewer", 3, FIRST, grows=False),  # no WG, no review to check: nothing listed
    Page("initiatives:list", "leader", 11, PAGINATED, params=lambda w: {"wg": w.personas.wg.pk}),
    Page("initiatives:list", "secretariat", 10, PAGINATED, params=lambda w: {"status": "on_track"}),
    # the progress timeline is paginated; indicators and reviews: per plan year
    Page("initiatives:detail", "member", 17, PAGINATED, args=lambda w: [w.main.pk]),
    # the moves of one review
    Page("initiatives:review", "secretariat", 5, DOMAIN, args=lambda w: [w.review.pk]),
    # the entry's last 20 versions
    Page("initiatives:progress_edit", "member", 5, FIRST, args=lambda w: [w.main.pk, w.entry.pk]),
    # the national lists (27 procedures, 20 systems) and what staff add to them
    Page("initiatives:procedures", "member", 6, DOMAIN),
    Page("initiatives:systems", "member", 6, DOMAIN),
    Page("workgroups:staff_list", "secretariat", 10, PAGINATED),  # + the page's lockouts
    Page("workgroups:sections", "secretariat", 12, DOMAIN),
    # the plan's WGs with their sections, leaders and warnings
    Page("workgroups:working_groups", "secretariat", 23, DOMAIN),
    # a person's last 100 changes
    Page(
        "workgroups:staff_history",
        "secretariat",
        12,
        FIRST,
        args=lambda w: [w.personas.member.pk],
    ),
    # delayed and stale: the first 20 and a link to the list; recent changes: 15
    Page("reporting:dashboard", "secretariat", DASHBOARD_LIMIT, FIRST),
    Page("reporting:dashboard", "hq", DASHBOARD_LIMIT, FIRST),
    # table 4-1 of the plan (the full one: excel:schedule_export)
    Page("reporting:schedule", "member", 8, DOMAIN),
    Page("reporting:report_list", "hq", 6, PAGINATED),
    # a frozen meeting report (reporting:report_excel)
    Page("reporting:report_detail", "hq", 4, DOCUMENT, args=lambda w: [w.snapshot.pk]),
    # the preview of a batch write: every line it will write (and what was abolished since)
    Page(
        "reporting:carry_over",
        "secretariat",
        13,
        DOCUMENT,
        params=lambda w: {"source": PLAN_CODE, "target": w.next_plan.code},
    ),
    Page("reporting:publication", "secretariat", 6, PAGINATED),
    Page("reporting:versions", "hq", 5, DOMAIN),
    # the plan switch check: each check's first 50 rows with the total
    Page("reporting:plan_switch", "secretariat", 23, FIRST, params=lambda w: {"plan": PLAN_CODE}),
    # the close-out report whole (also ?format=docx|pdf|xlsx): bounded by the plan; the 27
    # and 20 read once for their summaries and the indicators counted from them
    Page("reporting:summary", "hq", 20, DOCUMENT),
    # differences of two plan contents (?format=xlsx), and the plan as printed (.docx)
    Page("reporting:version_compare", "hq", 25, DOCUMENT),
    # +11: the figures' facts (related plans; HQ, WGs, sections, advisors at the version's date)
    Page("reporting:version_print", "hq", 16, DOCUMENT, args=lambda w: [w.version.pk]),
    # the drafting workspace: the whole plan's content (here the loaded plan, read-only)
    Page("reporting:draft", "secretariat", 21, DOMAIN, args=lambda w: [PLAN_CODE]),
    # published initiatives paginated (all of them: public:csv, public:json)
    Page("public:index", "anonymous", 10, PAGINATED),
    Page("api:summary", "secretariat", 12, DOMAIN),  # figures per policy and WG
    # +2: the done rows that a KPI linked to the 27 procedures / 20 systems counts as its
    # actual (initiatives.selectors.attach_counted_to_values), as every screen grades it
    Page("api:initiatives", "secretariat", 11, PAGINATED),
    Page("api:procedures", "secretariat", 6, PAGINATED),
    Page("api:systems", "secretariat", 6, PAGINATED),
    # service accounts (a handful) and the newest 30 events
    Page(
        "api_accounts:list", "secretariat", 8, DOMAIN
    ),  # the audit trail (issue 23): the session, the user and roles (3), the person filter's
    # choices (1), one UNION over the history tables for the count and one for the page (2),
    # per kind on the page its rows with their predecessors and its live objects (2), per
    # related model a change names one (here 2: the initiative, the author); unfiltered, the
    # page costs 2 more per kind on it: test_audit_page_costs_two_queries_per_kind_on_it
    Page(
        "reporting:audit",
        "secretariat",
        10,
        PAGINATED,
        params=lambda w: {"kind": "initiatives.progressentry"},
    ),
    # the session, the user and roles (3), the lockouts in force (1; 2 more when there are
    # any: their counts, their accounts), the records' count and page (2), the people they
    # name (1); grow() logs nobody in, so the records stay as they were
    Page("reporting:audit_logins", "secretariat", 7, PAGINATED, grows=False),
]

# URL names that are not list pages, and why.
NOT_LIST_PAGES: dict[str, str] = {
    "healthz": "health check: one SELECT 1",
    "date_echo": "a typed date read back for the form's echo (JSON, no query)",
    "initiatives:progress_create": "a form",
    "initiatives:indicator_create": "a form",
    "initiatives:indicator_edit": "a form (one row per fiscal year of the plan)",
    "initiatives:review_edit": "a form",
    "initiatives:reviews_open": "POST only",
    "initiatives:review_submit": "POST only",
    "initiatives:review_check": "POST only",
    "initiatives:review_return": "POST only",
    "initiatives:review_approve": "POST only",
    "initiatives:procedure_create": "a form",
    "initiatives:procedure_edit": "a form",
    "initiatives:system_edit": "a form",
    "initiatives:procedure_confirm": "POST only",
    "initiatives:system_confirm": "POST only",
    "workgroups:staff_roster": "upload form; its preview answers the POST",
    "workgroups:staff_roster_confirm": "POST only",
    "workgroups:staff_roster_done": "one import's new accounts in one select_related query",
    "workgroups:staff_create": "a form",
    "workgroups:staff_edit": "a form (one role field per WG of the plan)",
    "workgroups:staff_set_active": "POST only",
    "workgroups:staff_password": "a form",
    "workgroups:staff_unlock": "POST only",
    "workgroups:organisation": "a form (the plan's HQ seats: bounded by the organisation)",
    "excel:index": "the fixed list of sheet kinds, not of rows",
    "excel:schedule_export": "file download (the full table 4-1)",
    "excel:schedule_import": "upload form; its preview answers the POST",
    "excel:schedule_confirm": "POST only",
    "excel:bulk_export": "file download: the full Excel/CSV the bounded pages link to",
    "excel:bulk_template": "file download (an empty template)",
    "excel:bulk_import": "upload form; its preview answers the POST",
    "excel:bulk_confirm": "POST only",
    "reporting:report_create": "POST only",
    "reporting:report_excel": "file download (a meeting report)",
    "reporting:compare": "redirect to reporting:version_compare",
    "reporting:version_document": "file download (the plan as .docx)",
    "reporting:version_pdf": "file download (the plan as PDF)",
    "reporting:chapter_edit": "a form",
    "reporting:draft_policy_new": "a form",
    "reporting:draft_policy": "a form",
    "reporting:draft_initiative_new": "a form",
    "reporting:draft_initiative": "a form",
    "reporting:draft_project_new": "a form",
    "reporting:draft_project": "a form",
    "reporting:draft_indicator_new": "a form (one target per fiscal year of the plan)",
    "reporting:draft_indicator": "a form (one target per fiscal year of the plan)",
    "reporting:draft_item_new": "a form",
    "reporting:draft_item": "a form",
    "reporting:draft_row_new": "a form (one cell per fiscal year of the plan)",
    "reporting:draft_row": "a form (one cell per fiscal year of the plan)",
    "reporting:draft_action": "POST only",
    "reporting:draft_predecessor_chapter": "POST only (a confirmation page when text would be replaced)",
    "public:csv": "open data download (the full public list)",
    "public:json": "open data download (the full public list)",
    "public:projects_csv": "open data download (the full public list)",
    "public:projects_json": "open data download (the full public list)",
    "public:indicators_csv": "open data download (the full public list)",
    "public:indicators_json": "open data download (the full public list)",
    "public:data": "the data dictionary: the fixed list of datasets and columns, no rows",
    "public:help": "a fixed help and contact page (no query)",
    "api:initiative_detail": "one initiative",
    "api:schema": "the OpenAPI schema (no rows)",
    "api:docs": "the Swagger page (no rows)",
    "api_accounts:create": "POST only",
    "api_accounts:regenerate": "POST only",
    "api_accounts:revoke": "POST only",
    "login": "authentication",
    "logout": "authentication",
    "password_change": "authentication",
    "password_change_done": "authentication",
    "password_reset": "authentication",
    "password_reset_done": "authentication",
    "password_reset_confirm": "authentication",
    "password_reset_complete": "authentication",
    "otp_login": "authentication (second factor)",
    "otp_setup": "authentication (second factor)",
    "account_security": "authentication (second factor)",
    "recovery_codes_regenerate": "POST only",
    "otp_disable": "POST only",
    "account_mail": "a form (one's own mail settings)",
    "reauthenticate": "authentication",
    "set_language": "POST only (language switch)",
    "reporting:audit_export": "file download: the audit list's CSV, at most EXPORT_LIMIT changes",
    "reporting:audit_unlock": "POST only",
}
# Namespaces left out as a whole: the Django admin (superusers only; Django paginates its
# changelists by list_per_page) and static files in DEBUG.
IGNORED_NAMESPACES = {"admin"}


def url_names() -> set[str]:
    names: set[str] = set()

    def walk(resolver: URLResolver, prefix: str) -> None:
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                if p.namespace in IGNORED_NAMESPACES:
                    continue
                walk(p, f"{prefix}{p.namespace}:" if p.namespace else prefix)
            elif isinstance(p, URLPattern) and p.name:
                names.add(prefix + p.name)

    walk(get_resolver(), "")
    return names


def test_every_url_name_is_classified():
    listed = {p.name for p in LIST_PAGES}
    assert not listed & set(NOT_LIST_PAGES), "a URL name is in both sets"
    names = url_names()
    assert names - listed - set(NOT_LIST_PAGES) == set(), "classify the new URL names"
    assert (listed | set(NOT_LIST_PAGES)) - names == set(), "these URL names are gone"


# --------------------------------------------------------------------------------------------
# Counting
# --------------------------------------------------------------------------------------------


def login(client, user) -> None:
    response = client.post(
        reverse("login"), {"username": user.get_username(), "password": PASSWORD}
    )
    assert response.status_code == 302, response.content[:500]


def count(client, url: str, params: dict[str, Any], status: int = 200) -> tuple[int, bytes]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    assert response.status_code == status, (url, response.status_code)
    body = b"".join(response) if response.streaming else response.content
    return len(ctx.captured_queries), body


@pytest.mark.parametrize("page", LIST_PAGES, ids=lambda p: p.id)
def test_list_page_query_count_holds_and_does_not_grow(client, personas, page):
    world = seed(personas)
    if page.user != "anonymous":
        login(client, getattr(personas, page.user))
    url = reverse(page.name, args=page.args(world))
    params = page.params(world)
    client.get(url, params)  # warm-up: the first request of the process fills its caches
    small, small_body = count(client, url, params)
    grow(world)
    large, large_body = count(client, url, params)
    assert small == large <= page.limit, (small, large)
    # the growth shows on the page (the data really is larger where the page reads it)
    assert (_stable(large_body) != _stable(small_body)) == page.grows


def _stable(body: bytes) -> bytes:
    """The page without what changes on every request (CSRF token, CSP nonce)."""
    return re.sub(rb'(csrfmiddlewaretoken" value=|nonce=)"[^"]*"', rb"\1", body)


@pytest.mark.parametrize(
    ("role", "status"),
    [("secretariat", 200), ("hq", 200), ("leader", 403), ("member", 403), ("viewer", 403)],
)
def test_dashboard_whole_page_at_most_12_queries_for_every_role(client, personas, role, status):
    """Issue 13: at most 12 queries whatever the data, everything the request runs counted:
    on the bare plan fixture, then with the seed and the growth of every other page."""
    login(client, getattr(personas, role))
    url = reverse("reporting:dashboard")
    params = {"plan": PLAN_CODE, "fy": str(FY)}
    client.get(url, params)  # warm-up
    bare, _ = count(client, url, params, status)
    grow(seed(personas))
    large, body = count(client, url, params, status)
    assert bare == large <= DASHBOARD_LIMIT, (bare, large)
    if status == 200:
        assert "追加の取り組み".encode() in body  # the growth is on the page (recent changes)
    # the page with no parameters (current plan and year) and with an invalid year
    assert count(client, url, {}, status)[0] <= DASHBOARD_LIMIT
    assert count(client, url, {"plan": PLAN_CODE, "fy": "1999"}, status)[0] <= DASHBOARD_LIMIT


def test_audit_page_costs_two_queries_per_kind_on_it(client, personas):
    """The audit list unfiltered, on the large data: a fixed part (6, as the kind-filtered
    page pins it), then 2 per kind of object on the page and 1 per related model a change
    names (reporting.selectors.audit.entries): bounded by the page, never by the tables."""
    grow(seed(personas))
    login(client, personas.secretariat)
    url = reverse("reporting:audit")
    client.get(url)  # warm-up
    queries, _ = count(client, url, {})
    entries = client.get(url).context["entries"]
    kinds = {e.kind for e in entries}
    assert len(entries) == 50
    assert 6 + 2 * len(kinds) <= queries <= 6 + 3 * len(kinds), (queries, kinds)
