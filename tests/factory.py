"""Plain `make_*` helpers and the personas every view test uses, built in one place."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model

from initiatives.models import Initiative, ProgressEntry, Review
from plans.models import Plan
from reporting.services.loading import plan_load_file
from workgroups.models import (
    HeadquartersMember,
    Section,
    StaffProfile,
    WorkingGroup,
    WorkingGroupMembership,
)
from workgroups.services import staff_create

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

User = get_user_model()
PLAN_CODE = "kahoku-dx-r3-r8"
PASSWORD = "kahoku-Test-pass-2026"


def load_plan() -> Plan:
    plan = Plan.objects.filter(code=PLAN_CODE).first()
    if plan is None:
        plan_load_file()
        plan = Plan.objects.get(code=PLAN_CODE)
    return plan


def make_user(
    username: str,
    *,
    role: str = StaffProfile.Role.STAFF,
    section: str | None = None,
    display_name: str = "",
) -> Any:
    return staff_create(
        username=username,
        password=PASSWORD,
        role=role,
        section=Section.objects.get(name=section) if section else None,
        display_name=display_name or username,
        email=f"{username}@city.kahoku.example",
    )


def make_membership(
    user: PortalUser, wg: WorkingGroup, *, leader: bool = False
) -> WorkingGroupMembership:
    role = WorkingGroupMembership.Role.LEADER if leader else WorkingGroupMembership.Role.MEMBER
    return WorkingGroupMembership.objects.create(working_group=wg, user=user, role=role)


def initiative(code: str) -> Initiative:
    policy_number, number = (int(x) for x in code.split("."))
    return Initiative.objects.select_related("policy", "working_group").get(
        policy__plan__code=PLAN_CODE, policy__number=policy_number, number=number
    )


def make_progress(ini: Initiative, *, author: Any = None, **kwargs: Any) -> ProgressEntry:
    kwargs.setdefault("entry_date", date(2026, 10, 1))
    entry = ProgressEntry(initiative=ini, author=author, **kwargs)
    entry.full_clean()
    entry.save()
    return entry


def make_review(ini: Initiative, fiscal_year: int = 2026, **kwargs: Any) -> Review:
    return Review.objects.create(initiative=ini, fiscal_year=fiscal_year, **kwargs)


@dataclass
class Personas:
    """Who can do what, after domain.md §6 (healthchecks' BaseTestCase idea)."""

    secretariat: Any
    hq: Any
    leader: Any  # WG長 of 情報推進課WG
    member: Any  # member of 情報推進課WG
    other_member: Any  # member of 総務課WG only
    viewer: Any  # logged-in staff with no WG
    wg: WorkingGroup
    other_wg: WorkingGroup


def make_personas() -> Personas:
    plan = load_plan()
    wg = WorkingGroup.objects.get(plan=plan, name="情報推進課WG")
    other_wg = WorkingGroup.objects.get(plan=plan, name="総務課WG")
    secretariat = make_user("secretariat", role=StaffProfile.Role.SECRETARIAT, section="情報推進課")
    hq = make_user("honbucho", role=StaffProfile.Role.HEADQUARTERS, display_name="本部長")
    HeadquartersMember.objects.filter(title="市長").update(user=hq)
    leader = make_user("leader", section="情報推進課")
    make_membership(leader, wg, leader=True)
    member = make_user("member", section="情報推進課")
    make_membership(member, wg)
    other_member = make_user("other", section="総務課")
    make_membership(other_member, other_wg)
    viewer = make_user("viewer", section="市民生活課")
    return Personas(secretariat, hq, leader, member, other_member, viewer, wg, other_wg)


# --- issue 3: progress, indicators, reviews, countable targets ------------------------------

REVIEW_COMPLETE = {
    "plan_text": "計画",
    "do_text": "実行",
    "check_text": "評価",
    "act_text": "改善",
    "self_grade": "B",
}


def make_indicator(ini: Initiative, name: str = "オンライン申請件数", **kwargs: Any) -> Any:
    from initiatives.models import Indicator

    return Indicator.objects.create(initiative=ini, name=name, **kwargs)


def make_procedure(number: int = 1, name: str = "児童手当の認定請求", **kwargs: Any) -> Any:
    """Procedure ``number`` as staff recorded it: the plan load ships the national list of
    27, so an existing row of that number is overwritten (and confirmed) rather than added."""
    from initiatives.models import Confirmation, CountableTarget, OnlineProcedure

    target = CountableTarget.objects.get(code="online-procedures")
    proc = OnlineProcedure.objects.filter(target=target, number=number).first()
    proc = proc or OnlineProcedure(target=target, number=number)
    kwargs.setdefault("confirmation", Confirmation.CONFIRMED)
    proc.name = name
    for key, value in kwargs.items():
        setattr(proc, key, value)
    proc.full_clean()
    proc.save()
    return proc


# --- Excel import/export helpers (issue 4) ---------------------------------------------------


def xlsx_bytes(
    rows: list[list[Any]], *, title: str = "Sheet1", merges: tuple[str, ...] = ()
) -> bytes:
    """A plain workbook as a person would type it (no safe-cell processing on purpose);
    ``merges`` are ranges merged as Excel merges them ("B4:B6": the covered cells blank)."""
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for row in rows:
        ws.append(row)
    for cell_range in merges:
        ws.merge_cells(cell_range)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def upload(data: bytes, name: str = "upload.xlsx") -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


# --- issue 5: dashboards, reports, public page -------------------------------------------


def make_online_procedure(number: int, *, online_on: date | None = None) -> Any:
    """A procedure of the 27, online since ``online_on`` (or not started)."""
    status = "online" if online_on else "not_started"
    return make_procedure(number, f"手続{number}", status=status, online_on=online_on)


def set_system_phase(number: int, phase: str, *, migrated_on: date | None = None) -> Any:
    from initiatives.models import StandardSystem

    system = StandardSystem.objects.get(number=number)
    system.confirmation = "confirmed"
    system.phase = phase
    system.migrated_on = migrated_on
    system.full_clean()
    system.save()
    return system


# --- issue 19: the second factor ------------------------------------------------------------


def make_totp_device(user: PortalUser, *, confirmed: bool = True) -> Any:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from portal_lib.two_factor import TOTP_DEVICE_NAME

    return TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=confirmed)


def totp_code(device: Any, *, at: float | None = None) -> str:
    """The code the user's authenticator app shows now (or at `at`), from the device's key."""
    import time

    from django_otp.oath import TOTP

    generator = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    generator.time = time.time() if at is None else at
    return f"{generator.token():0{device.digits}d}"


def login_verified(client: Any, user: PortalUser) -> Any:
    """Log a superuser (or anyone with a second factor) in as a finished sign-in leaves them:
    password and code given. Superusers reach nothing but enrolment otherwise."""
    from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user

    device = next(iter(devices_for_user(user)), None) or make_totp_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return device
