"""The organisation that runs the plan: sections, HQ, WGs, the secretariat, staff."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history import register
from simple_history.models import HistoricalRecords

from plans.models import Plan


def name_at(name: str, renames: Any, point: Any, *, since: str) -> str:
    """A body's name at ``point`` (a fiscal year or a date) from its renames, each with
    ``previous_name``, ``name`` and the field ``since`` it applies from: the one rule for
    sections (by fiscal year) and WGs (by date). Works on prefetched renames."""
    if point is None:
        return name
    ordered = sorted(renames, key=lambda n: getattr(n, since))
    if not ordered:
        return name
    current = ordered[0].previous_name
    for entry in ordered:
        if getattr(entry, since) <= point:
            current = entry.name
    return current


class SectionManager(models.Manager["Section"]):
    def get_by_natural_key(self, name: str) -> Section:
        return self.get(name=name)

    def renamed_from(self, name: str) -> Section | None:
        """The section that was called ``name`` before a rename (None if none was)."""
        if self.filter(name=name).exists():
            return None
        return self.filter(names__previous_name=name).order_by("names__valid_from_fy").first()


class Section(models.Model):
    """A 課 of the city office; people and files refer to it by name."""

    name = models.CharField(_("課名"), max_length=100, unique=True)
    department = models.CharField(_("部"), max_length=100, blank=True)
    order = models.PositiveSmallIntegerField(_("表示順"), default=0)
    is_active = models.BooleanField(_("有効"), default=True)
    ended_fy = models.PositiveIntegerField(
        _("最終年度"),
        null=True,
        blank=True,
        help_text=_("統合・分割で廃止された課の、存在した最後の年度"),
    )
    predecessors = models.ManyToManyField(
        "self",
        verbose_name=_("前身の課"),
        symmetrical=False,
        related_name="successors",
        blank=True,
        help_text=_("統合・分割の前の課(統合先・分割先から見た元の課)"),
    )
    history = HistoricalRecords(m2m_fields=[predecessors])
    objects = SectionManager()

    class Meta:
        verbose_name = _("課")
        verbose_name_plural = _("課")
        ordering = ["order", "name"]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.name,)

    def name_as_of(self, fiscal_year: int | None) -> str:
        """The section's name in ``fiscal_year``: a rename never rewrites older records.

        Uses prefetched ``names`` when present (prefetch "section__names" on lists).
        """
        return name_at(self.name, self.names.all(), fiscal_year, since="valid_from_fy")

    def ended_by(self, fiscal_year: int) -> bool:
        """True when the section no longer exists in ``fiscal_year`` (merged or split)."""
        return self.ended_fy is not None and self.ended_fy < fiscal_year


class SectionName(models.Model):
    """A rename of a section from a fiscal year on (組織改編): older records keep the old name.

    ``previous_name`` is the name before this rename, so the first rename also records
    the section's original name.
    """

    section = models.ForeignKey(
        Section, verbose_name="課", on_delete=models.CASCADE, related_name="names"
    )
    name = models.CharField("新しい課名", max_length=100)
    previous_name = models.CharField("変更前の課名", max_length=100)
    valid_from_fy = models.PositiveIntegerField("適用年度")
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("課名の変更")
        verbose_name_plural = _("課名の変更")
        ordering = ["section", "valid_from_fy"]
        constraints = [
            models.UniqueConstraint(
                fields=["section", "valid_from_fy"], name="uniq_section_name_from"
            )
        ]

    def __str__(self) -> str:
        return f"{self.previous_name} → {self.name}({self.valid_from_fy}年度から)"


class Secretariat(models.Model):
    """事務局: the section that runs progress management for a plan (情報推進課)."""

    plan = models.OneToOneField(
        Plan, verbose_name=_("計画"), on_delete=models.CASCADE, related_name="secretariat"
    )
    section = models.ForeignKey(
        Section, verbose_name=_("事務局の課"), on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("事務局")
        verbose_name_plural = _("事務局")

    def __str__(self) -> str:
        return _("事務局(%(section)s)") % {"section": self.section.name}


class Headquarters(models.Model):
    """DX推進本部: 本部長 = the mayor, members = 部課長."""

    plan = models.OneToOneField(
        Plan, verbose_name=_("計画"), on_delete=models.CASCADE, related_name="headquarters"
    )
    name = models.CharField(_("名称"), max_length=100, default="かほく市DX推進本部")
    established_fy = models.PositiveIntegerField(_("設置年度"), null=True, blank=True)
    description = models.TextField(_("役割"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("DX推進本部")
        verbose_name_plural = _("DX推進本部")

    def __str__(self) -> str:
        return self.name


class HeadquartersMember(models.Model):
    class Role(models.TextChoices):
        CHIEF = "chief", _("本部長")
        DEPUTY = "deputy", _("副本部長")
        MEMBER = "member", _("本部員")

    headquarters = models.ForeignKey(
        Headquarters, verbose_name=_("本部"), on_delete=models.CASCADE, related_name="members"
    )
    role = models.CharField(_("役割"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    title = models.CharField(_("職名"), max_length=100, help_text=_("例: 市長、総務部長"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ユーザー"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="hq_memberships",
    )
    section = models.ForeignKey(
        Section, verbose_name=_("所属課"), null=True, blank=True, on_delete=models.SET_NULL
    )
    order = models.PositiveSmallIntegerField(_("表示順"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("本部員")
        verbose_name_plural = _("本部員")
        ordering = ["headquarters", "order", "title"]
        # A seat is a person's: one per person and headquarters. Titles may repeat (every
        # section chief is a 課長; the roster makes them 総務課長, 情報推進課長 …).
        constraints = [
            models.UniqueConstraint(
                fields=["headquarters", "user"],
                condition=models.Q(user__isnull=False),
                name="uniq_hq_member_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_role_display()} {self.title}"


def new_wg_key() -> str:
    """A WG's stable key: the same body keeps it in every plan it continues into."""
    import uuid

    return uuid.uuid4().hex[:12]


class WorkingGroupManager(models.Manager["WorkingGroup"]):
    def get_by_natural_key(self, plan_code: str, name: str) -> WorkingGroup:
        return self.get(plan__code=plan_code, name=name)


class WorkingGroup(models.Model):
    """DX推進WG: normally one per lead section; may span several sections."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("計画"), on_delete=models.CASCADE, related_name="working_groups"
    )
    name = models.CharField(_("WG名"), max_length=100)
    lead_section = models.ForeignKey(
        Section,
        verbose_name=_("主管課"),
        on_delete=models.PROTECT,
        related_name="led_working_groups",
    )
    sections = models.ManyToManyField(
        Section, verbose_name=_("構成課"), related_name="working_groups", blank=True
    )
    established_fy = models.PositiveIntegerField(_("設置年度"), null=True, blank=True)
    description = models.TextField(_("説明"), blank=True)
    # The body's identity across plans: bodies_continue copies it, dated changes find the
    # WG of each later plan by it (a rename would break matching by name).
    key = models.CharField(_("識別キー"), max_length=32, default=new_wg_key, editable=False)
    dissolved_on = models.DateField(
        _("廃止日"),
        null=True,
        blank=True,
        help_text=_("統合・廃止でWGがなくなった日(この日以降は担当を持ちません)"),
    )
    history = HistoricalRecords(m2m_fields=[sections])

    objects = WorkingGroupManager()

    class Meta:
        verbose_name = _("DX推進WG")
        verbose_name_plural = _("DX推進WG")
        ordering = ["plan", "name"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "name"], name="uniq_wg_name"),
            models.UniqueConstraint(fields=["plan", "key"], name="uniq_wg_key"),
        ]

    def __str__(self) -> str:
        return self.name

    def name_as_of(self, day: date | None) -> str:
        """The WG's name on ``day``: a rename inside a plan never rewrites older records.

        Uses prefetched ``names`` when present (prefetch "working_group__names" on lists).
        """
        return name_at(self.name, self.names.all(), day, since="valid_from")

    def is_dissolved_on(self, day: date) -> bool:
        return self.dissolved_on is not None and self.dissolved_on <= day

    def natural_key(self) -> tuple[str, str]:
        return (self.plan.code, self.name)

    natural_key.dependencies = ["plans.plan"]  # type: ignore[attr-defined]

    @property
    def leaders(self) -> list:
        return [
            m.user for m in self.memberships.all() if m.role == WorkingGroupMembership.Role.LEADER
        ]


class WorkingGroupName(models.Model):
    """A rename of a WG from a date inside its plan: records before the date keep the old name
    (the WG's row of a later plan simply carries the new name)."""

    working_group = models.ForeignKey(
        WorkingGroup, verbose_name="WG", on_delete=models.CASCADE, related_name="names"
    )
    name = models.CharField(_("新しいWG名"), max_length=100)
    previous_name = models.CharField(_("変更前のWG名"), max_length=100)
    valid_from = models.DateField(_("適用日"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("WG名の変更")
        verbose_name_plural = _("WG名の変更")
        ordering = ["working_group", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["working_group", "valid_from"], name="uniq_wg_name_from"
            )
        ]

    def __str__(self) -> str:
        return f"{self.previous_name} → {self.name}({self.valid_from:%Y-%m-%d}から)"


class WorkingGroupMembership(models.Model):
    class Role(models.TextChoices):
        LEADER = "leader", _("WG長")
        MEMBER = "member", _("WGメンバー")

    working_group = models.ForeignKey(
        WorkingGroup, verbose_name="WG", on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ユーザー"),
        on_delete=models.CASCADE,
        related_name="wg_memberships",
    )
    role = models.CharField(_("役割"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("WGメンバー")
        verbose_name_plural = _("WGメンバー")
        ordering = ["working_group", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["working_group", "user"], name="uniq_wg_membership")
        ]

    def __str__(self) -> str:
        return f"{self.working_group} / {self.user} ({self.get_role_display()})"


class ExternalAdvisor(models.Model):
    """外部リソース: advisors attached to the plan or to one WG."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("計画"), on_delete=models.CASCADE, related_name="advisors"
    )
    name = models.CharField(_("氏名・団体名"), max_length=200)
    affiliation = models.CharField(_("所属"), max_length=200, blank=True)
    expertise = models.CharField(_("専門分野"), max_length=200, blank=True)
    working_group = models.ForeignKey(
        WorkingGroup,
        verbose_name=_("担当WG"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="advisors",
    )
    start_date = models.DateField(_("委嘱開始日"), null=True, blank=True)
    end_date = models.DateField(_("委嘱終了日"), null=True, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ポータルのアカウント"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="advisor_roles",
        help_text=_(
            "ポータルにログインするアドバイザーのみ。所属課がないのは当然なので、確認リストに載りません。"
        ),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("外部アドバイザー")
        verbose_name_plural = _("外部アドバイザー")
        ordering = ["plan", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.start_date and self.end_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("委嘱終了日は開始日以降にしてください。")})


class StaffProfile(models.Model):
    """A Django user as city staff: their section and portal role.

    WG leadership and membership live in WorkingGroupMembership, HQ seats in
    HeadquartersMember; the role here is what the person does office-wide.
    """

    class Role(models.TextChoices):
        STAFF = "staff", _("職員")
        SECRETARIAT = "secretariat", _("事務局")
        HEADQUARTERS = "headquarters", _("本部")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ユーザー"),
        on_delete=models.CASCADE,
        related_name="profile",
    )
    display_name = models.CharField(_("表示名"), max_length=100, blank=True)
    section = models.ForeignKey(
        Section,
        verbose_name=_("所属課"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="staff",
    )
    role = models.CharField(_("役割"), max_length=20, choices=Role.choices, default=Role.STAFF)
    staff_number = models.CharField(
        _("職員番号"),
        max_length=20,
        blank=True,
        default="",
        help_text=_("職員名簿の職員番号(名簿の取り込みで職員を見分けるキー)"),
    )
    job_title = models.CharField(_("職名"), max_length=100, blank=True, default="")
    kana = models.CharField(_("ふりがな"), max_length=100, blank=True, default="")
    # Mail on each move of a PDCA review (initiatives.notifications); the person turns it
    # off on their own mail settings page, the secretariat on the staff screen.
    review_mail = models.BooleanField(
        _("振り返りの通知メールを受け取る"),
        default=True,
        help_text=_(
            "振り返りの提出・差戻し・確認・承認や一括作成を、次に対応する人にメールで知らせます。"
        ),
    )
    # The optimistic-lock version of the whole staff record (portal_lib.versioning): every
    # write to the person's account, profile, WG roles or HQ seat moves it on
    # (workgroups.services.staff_version_bump), so a staff form opened before sees it.
    version = models.PositiveIntegerField(_("版数(同時編集の検出用)"), default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("職員プロフィール")
        verbose_name_plural = _("職員プロフィール")
        ordering = ["section__order", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["staff_number"],
                condition=~models.Q(staff_number=""),
                name="uniq_staff_number",
            )
        ]

    def __str__(self) -> str:
        return self.display_name or self.user.get_username()


# Accounts are changed in the admin too (activation, e-mail, staff flag): keep their history.
register(get_user_model(), app=__package__, table_name="workgroups_historicaluser")


def account_history() -> models.QuerySet[models.Model]:
    """Every history row of the accounts. register() adds ``User.history`` at run time, which
    no type can see: it is read here, typed, instead of an ignore at each use."""
    rows: models.QuerySet[models.Model] = get_user_model().history.all()  # type: ignore[attr-defined]
    return rows


class PasswordResetRequest(models.Model):
    """One request for a password-reset mail, kept an hour for the throttle
    (workgroups.password_reset). The address is kept only as a keyed digest."""

    email_digest = models.CharField(max_length=64, db_index=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True, db_index=True)
    requested_at = models.DateTimeField(db_index=True)
    mailed = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("パスワード再設定の依頼")
        verbose_name_plural = _("パスワード再設定の依頼")

    def __str__(self) -> str:
        return f"{self.requested_at:%Y-%m-%d %H:%M} {self.client_ip}"
