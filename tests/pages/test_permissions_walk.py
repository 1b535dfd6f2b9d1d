"""Walk EVERY URL in the URLconf as every persona.

Written generically so that the screens added later are covered without editing this
file — except for one thing: a URL with arguments needs sample arguments. Add them to
`URL_SAMPLE_ARGS` below (keyed by the namespaced URL name); the test fails and names every
URL it cannot build, so nobody forgets.

Rules checked:
- no persona ever gets a 5xx;
- anonymous users are sent to the login page, except on the public pages, the health
  check, the login/password-reset pages and the language switch;
- the admin answers only staff (everyone else is sent to the admin login);
- every URL refuses a POST without a CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from initiatives.models import (
    Indicator,
    IndicatorValue,
    OnlineProcedure,
    ProjectUnderWay,
    ReviewEvent,
    StandardSystem,
)
from plans.models import PlanVersion, ScheduleItem, ScheduleRow
from reporting.api.accounts import service_account_create
from reporting.models import ReportSnapshot
from reporting.services.meeting_reports import report_snapshot_create
from tests.factory import Personas, initiative, make_procedure, make_progress, make_review

pytestmark = pytest.mark.django_db

_PLAN = "kahoku-dx-r3-r8"
PERSONAS = ["anonymous", "viewer", "member", "other_member", "leader", "secretariat", "hq"]


@dataclass
class Samples:
    """Objects from the loaded plan (plus a little activity) to build URL arguments from."""

    personas: Personas
    initiative: Any  # 2.1, in the member's and leader's WG
    other_initiative: Any  # in the other member's WG
    progress: Any
    review: Any
    indicator: Any
    service_account: Any = None

    def obj(self, model: type[models.Model]) -> models.Model | None:
        return model._default_manager.order_by("pk").first()


# Namespaced URL name -> sample kwargs (or a list of positional args for a re_path with
# unnamed groups). Register every new URL that takes arguments here.
URL_SAMPLE_ARGS: dict[str, Callable[[Samples], dict[str, Any] | list[Any]]] = {
    "password_reset_confirm": lambda s: {
        "uidb64": urlsafe_base64_encode(force_bytes(s.personas.member.pk)),
        "token": default_token_generator.make_token(s.personas.member),
    },
    "admin:app_list": lambda s: {"app_label": "initiatives"},
    "admin:view_on_site": lambda s: {
        "content_type_id": ContentType.objects.get_for_model(s.initiative).pk,
        "object_id": s.initiative.pk,
    },
    "admin:auth_user_password_change": lambda s: {"id": s.personas.member.pk},
    # django-otp's device pages (refused: OTP_ADMIN_HIDE_SENSITIVE_DATA)
    "admin:otp_totp_totpdevice_config": lambda s: {"pk": 1},
    "admin:otp_totp_totpdevice_qrcode": lambda s: {"pk": 1},
    # issue 3: progress, indicators, reviews, countable targets
    "initiatives:detail": lambda s: {"pk": s.initiative.pk},
    "initiatives:progress_create": lambda s: {"pk": s.initiative.pk},
    "initiatives:progress_edit": lambda s: {"pk": s.initiative.pk, "entry_pk": s.progress.pk},
    "initiatives:indicator_create": lambda s: {"pk": s.initiative.pk},
    "initiatives:indicator_edit": lambda s: {"pk": s.indicator.pk},
    "initiatives:review_edit": lambda s: {"pk": s.initiative.pk, "fy": s.review.fiscal_year},
    "initiatives:review": lambda s: {"pk": s.review.pk},
    "initiatives:review_submit": lambda s: {"pk": s.review.pk},
    "initiatives:review_return": lambda s: {"pk": s.review.pk},
    "initiatives:review_check": lambda s: {"pk": s.review.pk},
    "initiatives:review_approve": lambda s: {"pk": s.review.pk},
    "initiatives:procedure_edit": lambda s: {"pk": s.obj(OnlineProcedure).pk},
    "initiatives:system_edit": lambda s: {"pk": s.obj(StandardSystem).pk},
    "initiatives:procedure_confirm": lambda s: {"pk": s.obj(OnlineProcedure).pk},
    "initiatives:system_confirm": lambda s: {"pk": s.obj(StandardSystem).pk},
    # issue 4: bulk sheets (one sheet stands for all: they share the views)
    "excel:bulk_export": lambda s: {"slug": "progress", "fmt": "xlsx"},
    "excel:bulk_template": lambda s: {"slug": "progress"},
    "excel:bulk_import": lambda s: {"slug": "progress"},
    "excel:bulk_confirm": lambda s: {"slug": "progress"},
    # issue 5: meeting reports
    "reporting:report_detail": lambda s: {"pk": s.obj(ReportSnapshot).pk},
    "reporting:report_excel": lambda s: {"pk": s.obj(ReportSnapshot).pk},
    # issue 12: plan versions
    "reporting:version_document": lambda s: {"pk": s.obj(PlanVersion).pk},
    "reporting:version_print": lambda s: {"pk": s.obj(PlanVersion).pk},
    "reporting:version_pdf": lambda s: {"pk": s.obj(PlanVersion).pk},  # issue 22
    "reporting:chapter_edit": lambda s: {"pk": s.obj(PlanVersion).pk, "number": 1},
    # issue 20: the drafting workspace (the loaded plan is in force: its forms refuse)
    "reporting:draft": lambda s: {"code": _PLAN},
    "reporting:draft_policy_new": lambda s: {"code": _PLAN},
    "reporting:draft_policy": lambda s: {"code": _PLAN, "pk": s.initiative.policy_id},
    "reporting:draft_initiative_new": lambda s: {"code": _PLAN},
    "reporting:draft_initiative": lambda s: {"code": _PLAN, "pk": s.initiative.pk},
    "reporting:draft_project_new": lambda s: {"code": _PLAN, "parent": s.initiative.pk},
    "reporting:draft_project": lambda s: {"code": _PLAN, "pk": s.obj(ProjectUnderWay).pk},
    "reporting:draft_indicator_new": lambda s: {"code": _PLAN, "parent": s.initiative.pk},
    "reporting:draft_indicator": lambda s: {"code": _PLAN, "pk": s.indicator.pk},
    "reporting:draft_item_new": lambda s: {"code": _PLAN},
    "reporting:draft_item": lambda s: {"code": _PLAN, "pk": s.obj(ScheduleItem).pk},
    "reporting:draft_row_new": lambda s: {"code": _PLAN, "parent": s.obj(ScheduleItem).pk},
    "reporting:draft_row": lambda s: {"code": _PLAN, "pk": s.obj(ScheduleRow).pk},
    "reporting:draft_predecessor_chapter": lambda s: {"code": _PLAN},
    "reporting:draft_action": lambda s: {
        "code": _PLAN,
        "kind": "policy",
        "pk": s.initiative.policy_id,
        "action": "up",
    },
    # issue 11: staff and roles
    "workgroups:staff_edit": lambda s: {"pk": s.personas.member.pk},
    "workgroups:staff_set_active": lambda s: {"pk": s.personas.member.pk},
    "workgroups:staff_password": lambda s: {"pk": s.personas.member.pk},
    "workgroups:staff_unlock": lambda s: {"pk": s.personas.member.pk},
    "workgroups:staff_history": lambda s: {"pk": s.personas.member.pk},
    # issue 10: the JSON API and its service accounts
    "api:initiative_detail": lambda s: {"code": s.initiative.code},
    "api_accounts:regenerate": lambda s: {"pk": s.service_account.pk},
    "api_accounts:revoke": lambda s: {"pk": s.service_account.pk},
}

# Anonymous users may open these without being sent to the login page.
PUBLIC_NAMESPACES = {"public"}
PUBLIC_NAMES = {
    "healthz",
    "login",
    "logout",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "set_language",
    "admin:login",
    "admin:logout",
}
# The JSON API answers anonymous callers 401 (with WWW-Authenticate: Token), not a redirect;
# its docs page is for people in a browser and sends them to the login page.
API_NAMESPACES = {"api"}
API_BROWSER_PAGES = {"api:docs"}


@dataclass
class Route:
    name: str | None  # namespaced, e.g. "admin:plans_plan_change"
    parts: list[Any]  # the pattern objects from the root down
    params: tuple[str, ...]

    @property
    def route(self) -> str:
        return "".join(str(p) for p in self.parts)

    @property
    def label(self) -> str:
        return self.name or f"<unnamed {self.route}>"


def all_routes() -> list[Route]:
    routes: list[Route] = []

    def walk(resolver: URLResolver, parts: list[Any], namespace: str | None) -> None:
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                ns = namespace
                if entry.namespace:
                    ns = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
                walk(entry, [*parts, entry.pattern], ns)
            elif isinstance(entry, URLPattern):
                name = None
                if entry.name:
                    name = f"{namespace}:{entry.name}" if namespace else entry.name
                all_parts = [*parts, entry.pattern]
                params: tuple[str, ...] = ()
                for part in all_parts:
                    named = tuple(part.regex.groupindex.keys())
                    # re_path patterns may capture positionally: number those groups.
                    positional = part.regex.groups - len(named)
                    params += named + tuple(f"#{i}" for i in range(positional))
                routes.append(Route(name, all_parts, params))

    walk(get_resolver(), [], None)
    return routes


_ADMIN_MODEL_ROUTE = re.compile(r"^admin/(?P<app>\w+)/(?P<model>\w+)/")


def _admin_model(route: Route) -> type[models.Model] | None:
    match = _ADMIN_MODEL_ROUTE.match(route.route)
    if not match:
        return None
    try:
        model = apps.get_model(match["app"], match["model"])
    except LookupError:
        return None
    return model if model in admin.site._registry else None


def _kwargs_for(route: Route, samples: Samples) -> dict[str, Any] | list[Any] | None:
    if not route.params:
        return {}
    if route.name in URL_SAMPLE_ARGS:
        return URL_SAMPLE_ARGS[route.name](samples)
    # Admin model pages (change, delete, history and the unnamed redirect) take object_id;
    # simple-history's page of one historical version takes (object_id, history_id).
    model = _admin_model(route)
    if model is not None and set(route.params) == {"object_id"}:
        obj = samples.obj(model)
        return {"object_id": obj.pk if obj is not None else 999999}
    if model is not None and route.name and route.name.endswith("_simple_history"):
        obj = samples.obj(model)
        if obj is None:
            return [999999, 999999]
        return [obj.pk, obj.history.order_by("history_id").first().history_id]
    # Catch-alls: the admin's final catch-all and (DEBUG only) static files.
    if route.params == ("url",) and route.route.startswith("admin/"):
        return {"url": "no-such-admin-page/"}
    if route.params == ("path",) and "static" in route.route:
        return {"path": "css/portal.css"}
    return None


def _path_for(route: Route, kwargs: dict[str, Any] | list[Any]) -> str:
    if isinstance(kwargs, list):
        assert route.name, route.route
        return reverse(route.name, args=kwargs)
    if route.name:
        return reverse(route.name, kwargs=kwargs)
    # Unnamed: fill the route text in by hand.
    text = route.route
    for key, value in kwargs.items():
        text = re.sub(rf"<(?:\w+:)?{key}>", str(value), text)
        text = re.sub(rf"\(\?P<{key}>[^)]*\)", str(value), text)
    return "/" + text.replace("^", "").replace("$", "")


@pytest.fixture
def samples(personas) -> Samples:
    ini = initiative("2.1")
    other = next(
        i for i in type(ini).objects.filter(working_group=personas.other_wg).order_by("pk")[:1]
    )
    progress = make_progress(ini, author=personas.member, status="on_track", percent=40)
    review = make_review(ini)
    ReviewEvent.objects.create(review=review, to_state="draft", actor=personas.leader)
    indicator = Indicator.objects.create(initiative=ini, name="オンライン化手続数", unit="件")
    IndicatorValue.objects.create(indicator=indicator, fiscal_year=2022, target=27, actual=20)
    make_procedure()
    report_snapshot_create(
        plan=ini.policy.plan,
        fiscal_year=2026,
        title="本部会議",
        today=date(2026, 11, 24),
        user=personas.secretariat,
    )
    # One failed login so the axes admin pages have a row.
    Client().post("/accounts/login/", {"username": "member", "password": "wrong"})
    account, _ = service_account_create(
        actor=personas.secretariat, username="bi-walk", display_name="巡回", working_group=None
    )
    return Samples(personas, ini, other, progress, review, indicator, account)


@pytest.fixture
def built(samples) -> list[tuple[Route, str]]:
    unbuildable = []
    out = []
    for route in all_routes():
        kwargs = _kwargs_for(route, samples)
        if kwargs is None:
            unbuildable.append(f"{route.label} (route {route.route!r}, args {route.params})")
            continue
        out.append((route, _path_for(route, kwargs)))
    assert not unbuildable, (
        "No sample arguments for these URLs; add them to URL_SAMPLE_ARGS in "
        "tests/pages/test_permissions_walk.py:\n  " + "\n  ".join(unbuildable)
    )
    return out


def _is_public(route: Route) -> bool:
    if route.name in PUBLIC_NAMES:
        return True
    if route.name and route.name.split(":", 1)[0] in PUBLIC_NAMESPACES:
        return True
    return "static" in route.route and not route.route.startswith("admin/")


def _is_api(route: Route) -> bool:
    return bool(
        route.name
        and route.name.split(":", 1)[0] in API_NAMESPACES
        and route.name not in API_BROWSER_PAGES
    )


def _redirect_target(response) -> str:
    return urlsplit(response["Location"]).path if response.status_code == 302 else ""


def test_every_url_for_every_persona(personas, built):
    # Guard the walker itself: if it stopped finding URLs, this test would pass vacuously.
    names = {route.name for route, _ in built}
    assert {
        "home",
        "healthz",
        "login",
        "admin:index",
        "admin:initiatives_initiative_change",
    } <= names
    assert len(built) > 200
    # One test over all personas: the plan is loaded once (this walk is ~1,800 requests).
    problems: list[str] = []
    for persona in PERSONAS:
        problems += _walk_as(persona, personas, built)
    assert not problems, "\n  ".join(["Permission walk failures:", *problems])


def _walk_as(persona: str, personas: Personas, built: list[tuple[Route, str]]) -> list[str]:
    client = Client(raise_request_exception=False)
    user = None if persona == "anonymous" else getattr(personas, persona)
    if user is not None:
        client.force_login(user)
    login_path = reverse(settings.LOGIN_URL)
    admin_login_path = reverse("admin:login")
    problems: list[str] = []

    for route, url in built:
        response = client.get(url)
        status = response.status_code
        where = f"[{persona}] {route.label} GET {url} -> {status}"
        if status >= 500:
            problems.append(f"{where}: server error")
            continue
        is_admin = route.route.startswith("admin/")
        if user is None:
            if _is_public(route):
                continue
            if _is_api(route):
                if status != 401 or client.post(url).status_code != 401:
                    problems.append(f"{where}: anonymous API call not refused with 401")
                continue
            target = admin_login_path if is_admin else login_path
            if status == 405:  # a write endpoint: a POST must also send anonymous to login
                response = client.post(url)
                status = response.status_code
                where = f"[{persona}] {route.label} POST {url} -> {status}"
            if _redirect_target(response) != target:
                problems.append(f"{where}: anonymous not sent to {target}")
        elif is_admin and not user.is_staff:
            if route.name in {"admin:login", "admin:logout"}:
                continue
            if _redirect_target(response) != admin_login_path:
                problems.append(f"{where}: admin page reachable by non-staff")
        if user is not None and client.session.get("_auth_user_id") != str(user.pk):
            problems.append(f"{where}: a GET logged the user out")
            client.force_login(user)
    return problems


def test_every_url_refuses_a_post_without_csrf_token(personas, built):
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.force_login(personas.secretariat)
    problems = []
    for route, url in built:
        response = client.post(url, {"x": "1"})
        if response.status_code != 403 or "送信を受け付けできませんでした。" not in (
            response.content.decode()
        ):
            problems.append(f"{route.label} POST {url} -> {response.status_code}")
    assert not problems, "POST without a CSRF token was not refused:\n  " + "\n  ".join(problems)
