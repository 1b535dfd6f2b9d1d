"""With the language switch on English, the main pages hold no Japanese UI text.

Japanese may remain only as data typed by staff or loaded from the plan (plan, policy and
initiative titles, names, notes …): the test collects those values from the database and
removes them from the page before looking for Japanese script.
"""

from __future__ import annotations

import html
import json
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import models
from django.urls import reverse
from django.utils import timezone

from initiatives import services
from initiatives.models import IndicatorValue, StandardSystem
from reporting.models import ReportSnapshot
from tests.factory import (
    initiative,
    make_indicator,
    make_procedure,
    make_progress,
    make_review,
)

pytestmark = pytest.mark.django_db

TODAY = date(2026, 11, 24)
JAPANESE = re.compile(r"[\u3000-\u303f\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]+")
# The language switch names Japanese in Japanese, so that a Japanese reader finds it.
NOT_UI_TEXT = ["日本語"]
SHOWN_ATTRIBUTES = {"aria-label", "title", "placeholder", "alt", "value"}


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: TODAY)
    monkeypatch.setattr("initiatives.views._today", lambda: TODAY)


VOID_ELEMENTS = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
}


class _Text(HTMLParser):
    """What a reader sees: text nodes and the attributes a screen reader or a field shows.

    An element inside the page marked ``lang="ja"`` holds Japanese data on purpose (the
    pieces of plan text a diff cuts, which no longer match whole data values): it is left out.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.open: list[tuple[str, bool]] = []  # (tag, marked Japanese)

    def _in_japanese(self) -> bool:
        return any(ja for _, ja in self.open)

    def handle_starttag(self, tag, attrs):
        japanese = tag != "html" and dict(attrs).get("lang") == "ja"
        if not (japanese or self._in_japanese()):
            self.parts.extend(v for k, v in attrs if k in SHOWN_ATTRIBUTES and v)
        if tag not in VOID_ELEMENTS:
            self.open.append((tag, japanese))

    def handle_endtag(self, tag):
        for i in range(len(self.open) - 1, -1, -1):
            if self.open[i][0] == tag:
                del self.open[i:]
                break

    def handle_data(self, data):
        if not self._in_japanese():
            self.parts.append(data)


def _visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return "\n".join(parser.parts)


def _data_values() -> list[str]:
    """Every text value staff typed or the plan loaded, plus the shortened forms pages show."""
    values: set[str] = set()
    for app in ("plans", "workgroups", "initiatives"):
        for model in apps.get_app_config(app).get_models():
            fields = [
                f.name
                for f in model._meta.concrete_fields
                if isinstance(f, (models.CharField, models.TextField)) and not f.choices
            ]
            for row in model.objects.values_list(*fields):
                values.update(str(v) for v in row if v)
    for user in get_user_model().objects.all():
        values.update(v for v in (user.get_full_name(), user.get_username()) if v)
    for snapshot in ReportSnapshot.objects.all():
        # A report is a frozen record: its per-policy and per-WG labels are stored as they
        # read on the day (in Japanese); the status and review labels are translated.
        values.add(snapshot.title)
        values.update(
            g["label"] for g in snapshot.data["policies"] + snapshot.data["working_groups"]
        )
    values = {v for v in values if JAPANESE.search(v)}
    shortened = set()
    for value in values:
        for n in (20, 30, 40, 80):
            if len(value) > n:
                shortened.update({value[: n - 1] + "…", value[:n]})
    lines = {line.strip() for v in values for line in v.splitlines() if line.strip()}
    return sorted(values | shortened | lines, key=len, reverse=True) + NOT_UI_TEXT


def _japanese_left(page: str, data: list[str]) -> list[str]:
    text = _visible_text(page)
    for value in data:
        text = text.replace(value, " ")
    return [
        text[max(0, m.start() - 20) : m.end() + 20].replace("\n", " ")
        for m in JAPANESE.finditer(text)
    ]


@pytest.fixture
def realistic(personas, client):
    """A working year: progress, indicators, a review under way, procedures, systems, a
    meeting report and a public page."""
    i21, i22, i31 = initiative("2.1"), initiative("2.2"), initiative("3.1")
    make_progress(
        i21, author=personas.member, status="on_track", percent=55, done_text="申請フォームを公開"
    )
    make_progress(i22, author=personas.leader, status="delayed", percent=20, issues_text="予算")
    make_progress(i31, author=personas.secretariat, status="done", percent=100)
    indicator = make_indicator(i21, name="オンライン化手続数", unit="件", baseline=3)
    IndicatorValue.objects.create(indicator=indicator, fiscal_year=2026, target=27, actual=25)
    texts = {
        "plan_text": "申請手続のオンライン化を進める",
        "do_text": "子育て関係の15手続をオンライン化した",
        "check_text": "目標27手続に対して25手続",
        "act_text": "残る手続を来年度に対応する",
        "self_grade": "B",
    }
    review = make_review(i21, due_date=date(2026, 12, 1), carry_over="continue", **texts)
    services.review_submit(actor=personas.leader, review=review, comment="提出します")
    make_review(i22, state="returned", due_date=date(2026, 11, 30), **texts)
    make_procedure(1, "児童手当の認定請求", status="online", online_on=date(2022, 10, 1))
    make_procedure(2, "保育施設等の利用申込", status="preparing")
    StandardSystem.objects.filter(number=1).update(phase="done", migrated_on=date(2026, 5, 1))
    StandardSystem.objects.filter(number=18).update(phase="migrating")
    i21.is_public = True
    i21.public_fields = ["description", "progress", "projects", "indicators"]
    i21.save()
    client.force_login(personas.secretariat)
    client.post(reverse("reporting:report_create"), {"title": "第2回本部会議", "fy": "R8"})
    client.get(reverse("reporting:report_list"))  # shows (and so consumes) the flash message
    return {
        "review": review,
        "initiative": i21,
        "returned": i22,
        "snapshot": ReportSnapshot.objects.get(),
    }


def _pages(realistic) -> dict[str, str]:
    ini, review = realistic["initiative"], realistic["review"]
    return {
        "home": reverse("home"),
        "dashboard": reverse("reporting:dashboard"),
        "initiative list": reverse("initiatives:list"),
        "initiative list filtered": reverse("initiatives:list") + "?fy=R8&status=delayed",
        "initiative detail": reverse("initiatives:detail", args=[ini.pk]),
        "progress form": reverse("initiatives:progress_create", args=[ini.pk]),
        "table 4-1": reverse("reporting:schedule"),
        "reports": reverse("reporting:report_list"),
        "report": reverse("reporting:report_detail", args=[realistic["snapshot"].pk]),
        "public page": reverse("public:index"),
        "excel index": reverse("excel:index"),
        "procedures": reverse("initiatives:procedures"),
        "systems": reverse("initiatives:systems"),
        "review": reverse("initiatives:review", args=[review.pk]),
        "review form": reverse("initiatives:review_edit", args=[realistic["returned"].pk, 2026]),
        "procedure form": reverse("initiatives:procedure_create"),
    }


def test_main_pages_in_english_hold_no_japanese_ui_text(client, realistic):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    data = _data_values()
    problems = []
    for name, url in _pages(realistic).items():
        response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        page = html.unescape(response.content.decode())
        assert '<html lang="en">' in page, name
        problems += [f"{name}: …{left}…" for left in _japanese_left(page, data)]
    assert not problems, "\n".join(problems)


def test_the_same_pages_in_japanese_do_show_japanese_ui_text(client, realistic):
    """Guard the guard: the check does find UI text when the page is Japanese."""
    data = _data_values()
    for name, url in _pages(realistic).items():
        page = html.unescape(client.get(url).content.decode())
        assert _japanese_left(page, data), name


def test_fiscal_years_rules_filters_and_errors_read_in_english(client, realistic):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("initiatives:detail", args=[realistic["initiative"].pk]))
    text = html.unescape(page.content.decode())
    assert "FY R8 (2026)" in text
    assert "令和8年度" not in text
    assert "Achievement = result ÷ target" in text  # the grade rule
    assert "Each initiative's progress is the progress of its latest entry" in text

    text = html.unescape(
        client.get(reverse("initiatives:list") + "?fy=令和3年2月").content.decode()
    )
    assert '<label for="id_fy">Fiscal year</label>' in text
    assert '<label for="id_policy">Basic policy</label>' in text
    assert '<option value="" selected>All</option>' in text
    assert '<option value="1">Basic policy 1 産業・生活のデジタル化</option>' in text
    assert '<option value="not_started">Not started</option>' in text
    assert (
        "“令和3年2月” is a month, not a fiscal year. "
        "For the fiscal year: Enter it like R3, 令和3年度, 2021 or FY2021." in text
    )


def test_fiscal_year_labels_keep_japanese_and_translate_to_english():
    from django.utils import translation

    from portal_lib import era

    with translation.override("ja"):
        assert era.format_fiscal_year(2026) == "令和8年度 (2026年度)"
        assert era.format_fiscal_year(2019) == "令和元年度 (2019年度)"
        assert era.format_fiscal_year(2018) == "平成30年度 (2018年度)"
        assert era.format_era_month(2022, 2) == "令和4年2月"
    with translation.override("en"):
        assert era.format_fiscal_year(2026) == "FY R8 (2026)"
        assert era.format_fiscal_year(2019) == "FY R1 (2019)"
        assert era.format_fiscal_year(2018) == "FY H30 (2018)"
        assert era.format_era_month(2022, 2) == "R4/2"
        assert era.short_header(2026) == "R8 (2026)"


# --- every page and every form, for every persona ------------------------------------------
#
# The pages above were picked by hand, and strings slipped through on the pages nobody
# picked (the staff form, the sections page, the API accounts, the next-plan form …). This
# test walks EVERY URL of the URLconf (the permission walk's enumeration and sample
# arguments), as every persona, in English: the GET of each page, and a POST with empty
# (invalid) data to each page that holds a form and to each write endpoint, so that the
# error messages and the flash messages render too. Each POST runs in a savepoint that is
# rolled back, so every persona sees the same data. The workbooks the portal writes are
# opened and their sheet names and header rows scanned as well.
#
# A failure lists "[persona] page (url): …Japanese text…", one line per find, so the strings
# to wrap are easy to find.

WALK_PERSONAS = ["anonymous", "secretariat", "hq", "leader", "member", "viewer", "superuser"]
# POSTing these would end the session or switch the language the walk reads in.
NO_POST = {"logout", "set_language", "admin:logout", "public:set_language"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Workbooks whose headers stay Japanese on purpose, with the reason.
JAPANESE_WORKBOOKS = {
    # The exchange sheets are read back by the importer: their sheet names and column
    # headers are the import's keys, the same whatever the language of whoever exported them.
    "excel:bulk_export": "exchange format",
    "excel:bulk_template": "exchange format",
    # Table 4-1 is read back by its importer, which finds the header row by its 項目 cell.
    "excel:schedule_export": "exchange format (table 4-1 round trip)",
}
# Rows of a workbook that are headers: titles and column headings sit in the first rows.
HEADER_ROWS = 6


def _walk_data_values() -> list[str]:
    """The data of every app (not only the plan's), as the pages show it: names, titles,
    notes, codes … A review event's comment is shown through ``shown_comment`` (the portal
    writes some of them itself, and shows those in the reader's language)."""
    from django.utils import translation

    from initiatives.models import ReviewEvent

    values = set(_data_values())
    skip = {(ReviewEvent, "comment")}
    for model in apps.get_models():
        if model._meta.app_label in {"plans", "workgroups", "initiatives"}:
            continue  # _data_values has them
        fields = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField))
            and not f.choices
            and (model, f.name) not in skip
        ]
        if fields:
            for row in model.objects.values_list(*fields):
                values.update(str(v) for v in row if v and JAPANESE.search(str(v)))
    with translation.override("en"):
        shown = {str(ev.shown_comment) for ev in ReviewEvent.objects.all()}
    written = {ev.comment for ev in ReviewEvent.objects.all()}
    values -= written - shown
    values.update(v for v in shown if JAPANESE.search(v))
    # A JSON field is stored data (a meeting report's frozen figures and labels, as they read
    # on the day); the admin shows it whole, as JSON text. That text is taken out whole, not
    # string by string, so that a stored label does not also hide the same words as UI text.
    for model in apps.get_models():
        json_fields = [
            f.name for f in model._meta.concrete_fields if isinstance(f, models.JSONField)
        ]
        for name in json_fields:
            field = model._meta.get_field(name)
            for value in model.objects.values_list(name, flat=True):
                if value:
                    shown = json.dumps(value, ensure_ascii=False, cls=field.encoder)
                    if JAPANESE.search(shown):
                        values.add(shown)
    return sorted(values, key=len, reverse=True)


def _file_format_columns() -> dict[str, list[str]]:
    """The column names of each admin import/export resource, by the admin page that lists
    them (import, its confirm step, export). They are the file format, not UI text: the
    importer finds its columns by these Japanese headers, so a file exported by an English
    reader must carry the same ones. They count as data on those pages only (elsewhere the
    same words, 番号 or 評価 as a column heading, are UI text and must be translated)."""
    from django.contrib import admin

    columns: dict[str, list[str]] = {}
    for model, model_admin in admin.site._registry.items():
        names = {
            str(field.column_name)
            for resource_class in getattr(model_admin, "resource_classes", None) or ()
            for field in resource_class().fields.values()
        }
        names = {n for n in names if JAPANESE.search(n)}
        if not names:
            continue
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        for page in ("import", "process_import", "export"):
            columns[f"{prefix}_{page}"] = sorted(names, key=len, reverse=True)
    return columns


QUOTED = re.compile(r"“[^”]*”")


def _japanese_texts(page: str, data: list[str]) -> list[str]:
    """Each text node (or shown attribute) of the page still holding Japanese once the data
    is taken out, as it reads (whitespace collapsed, long texts cut)."""
    parser = _Text()
    parser.feed(page)
    found: dict[str, None] = {}
    for part in parser.parts:
        if not JAPANESE.search(part):
            continue
        stripped = part
        for value in data:
            if value in stripped:
                stripped = stripped.replace(value, " ")
        # Japanese in English quotes is quoted on purpose: a sheet or column name the file
        # must carry (“記入方法”), an example of what Japanese staff type.
        stripped = QUOTED.sub(" ", stripped)
        if JAPANESE.search(stripped):
            text = " ".join(part.split())
            found[text if len(text) <= 120 else text[:119] + "…"] = None
    return list(found)


def _workbook_japanese_left(content: bytes, data: list[str]) -> list[str]:
    import io

    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    texts = []
    for sheet in workbook.worksheets:
        texts.append(f"sheet name {sheet.title}")
        for row in sheet.iter_rows(max_row=HEADER_ROWS, values_only=True):
            texts.extend(f"cell {v}" for v in row if isinstance(v, str))
    found = []
    for text in texts:
        stripped = text
        for value in data:
            stripped = stripped.replace(value, " ")
        if JAPANESE.search(stripped):
            found.append(text)
    return found


def _post_forms(page: str, url: str) -> bool:
    """The page holds a form that posts back to itself (or has no action)."""
    path = url.split("?")[0]
    for match in re.finditer(r"<form\b[^>]*>", page):
        tag = match.group(0)
        if 'method="post"' not in tag.lower():
            continue
        action = re.search(r'action="([^"]*)"', tag)
        if action is None or action.group(1) in {"", path, url}:
            return True
    return False


def _walk_in_english(persona, user, built, data, columns) -> list[str]:
    from django.db import transaction
    from django.test import Client

    from tests.factory import login_verified

    client = Client(raise_request_exception=False)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    def log_in():
        if user is None:
            return
        if user.is_superuser:
            login_verified(client, user)
        else:
            client.force_login(user)

    log_in()
    problems: list[str] = []

    def scan(where: str, response) -> None:
        if response.get("Content-Type", "").startswith(XLSX):
            if route.name in JAPANESE_WORKBOOKS:
                return
            content = (
                b"".join(response.streaming_content) if response.streaming else (response.content)
            )
            problems.extend(
                f"{where} workbook: {left}" for left in _workbook_japanese_left(content, data)
            )
            return
        if not response.get("Content-Type", "").startswith("text/html"):
            return
        page = html.unescape(response.content.decode())
        shown_data = data
        if route.name in columns:
            shown_data = sorted(data + columns[route.name], key=len, reverse=True)
        problems.extend(f"{where}: {left}" for left in _japanese_texts(page, shown_data))

    for route, url in built:
        response = client.get(url)
        where = f"[{persona}] {route.label} ({url})"
        if response.status_code >= 500:
            problems.append(f"{where}: server error {response.status_code}")
            continue
        scan(where, response)
        is_form = response.status_code == 200 and response.get("Content-Type", "").startswith(
            "text/html"
        )
        wants_post = response.status_code == 405 or (
            is_form and _post_forms(response.content.decode(), url)
        )
        if user is not None and wants_post and route.name not in NO_POST:
            with transaction.atomic():
                response = client.post(url, {}, follow=True)
                transaction.set_rollback(True)
            if response.status_code >= 500:
                problems.append(f"{where} POST: server error {response.status_code}")
            else:
                scan(f"{where} POST", response)
        if user is not None and client.session.get("_auth_user_id") != str(user.pk):
            log_in()
    return problems


@pytest.fixture
def walk_samples(realistic, personas):
    from initiatives.models import Initiative
    from reporting.api.accounts import service_account_create
    from tests.pages.test_permissions_walk import Samples

    ini = realistic["initiative"]
    other = Initiative.objects.filter(working_group=personas.other_wg).order_by("pk").first()
    services.reviews_open(actor=personas.secretariat, fiscal_year=2026, due_date=date(2027, 1, 31))
    account, _ = service_account_create(
        actor=personas.secretariat, username="bi-walk", display_name="巡回", working_group=None
    )
    return Samples(
        personas,
        ini,
        other,
        ini.progress_entries.order_by("pk").first(),
        realistic["review"],
        ini.indicators.order_by("pk").first(),
        account,
    )


def test_every_page_and_form_in_english_for_every_persona(walk_samples, personas, admin_user):
    from tests.pages.test_permissions_walk import _kwargs_for, _path_for, all_routes

    built = []
    for route in all_routes():
        kwargs = _kwargs_for(route, walk_samples)
        assert kwargs is not None, f"no sample arguments for {route.label}"
        built.append((route, _path_for(route, kwargs)))
    names = {route.name for route, _ in built}
    assert {"home", "workgroups:staff_edit", "reporting:report_excel"} <= names
    data = _walk_data_values()
    columns = _file_format_columns()
    assert "admin:initiatives_initiative_import" in columns  # the resources were found
    users = {"anonymous": None, "superuser": admin_user}
    problems: list[str] = []
    for persona in WALK_PERSONAS:
        user = users[persona] if persona in users else getattr(personas, persona)
        problems += _walk_in_english(persona, user, built, data, columns)
    # One line per page and text, naming every persona who saw it.
    seen: dict[str, list[str]] = {}
    for problem in problems:
        persona, rest = problem[1:].split("] ", 1)
        seen.setdefault(rest, []).append(persona)
    assert not seen, "\n".join(
        [
            f"Japanese UI text in English mode, {len(seen)} finds (page (url): text [personas]):",
            *(f"{rest} [{', '.join(who)}]" for rest, who in seen.items()),
        ]
    )


def test_japanese_data_marked_lang_ja_is_left_out_and_nothing_after_it():
    """Guard the guard: a ``lang="ja"`` element hides its own text only (a <br> inside it or
    the page's own <html lang="ja"> do not hide the rest)."""
    page = (
        '<html lang="en"><p>Plan: <span lang="ja">令和<del>8</del><br>年度</span> 未報告</p>'
        '<p lang="ja" title="題">x</p>残り</html>'
    )
    assert _japanese_texts(page, []) == ["未報告", "残り"]
    assert _japanese_texts('<html lang="ja"><p>未報告</p></html>', []) == ["未報告"]
