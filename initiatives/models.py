"""Initiatives (取り組み) and everything that tracks their progress."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, pgettext_lazy
from simple_history.models import HistoricalRecords

from plans.models import FY_VALIDATORS, BasicPolicy, NationalItem, Plan, ScheduleRow, circled
from portal_lib import date_bounds, era
from portal_lib.codes import format_initiative_code
from workgroups.models import Section, WorkingGroup


class InitiativeQuerySet(models.QuerySet["Initiative"]):
    def for_plan(self, plan: Plan) -> InitiativeQuerySet:
        return self.filter(policy__plan=plan)

    def with_relations(self) -> InitiativeQuerySet:
        return self.select_related(
            "policy", "policy__plan", "working_group", "lead_section"
        ).prefetch_related("national_items")


# Named before it is subclassed: django-stubs types from_queryset() only in an assignment (as
# a base class written inline it was Any, and so was every Initiative.objects query).
_InitiativeManagerBase = models.Manager.from_queryset(InitiativeQuerySet)


class InitiativeManager(_InitiativeManagerBase):
    def get_by_natural_key(self, plan_code: str, policy_number: int, number: int) -> Initiative:
        return self.get(policy__plan__code=plan_code, policy__number=policy_number, number=number)


# What may be shown on the public page, field key -> label (the only keys is_public can open).
PUBLIC_FIELDS: dict[str, Promise] = {
    "description": _("取り組みの内容"),
    "progress": _("今年度の進み具合"),
    "projects": _("すでに取り組んでいる事業"),
    "indicators": _("目標と実績(指標)"),
}


class CarryOverDecision(models.TextChoices):
    """A final-year review's decision on an initiative, worded as Japanese plans word it."""

    UNDECIDED = "", _("未定")
    CONTINUE = "continue", _("継続")
    EXPAND = "expand", _("拡充")
    REVISE = "revise", _("見直し")
    COMPLETE = "complete", _("完了")
    ABOLISH = "abolish", _("廃止")


# The decisions that end an initiative with its plan (listed, never carried over).
ENDING_DECISIONS = frozenset({CarryOverDecision.COMPLETE, CarryOverDecision.ABOLISH})


class Initiative(models.Model):
    class Flag(models.TextChoices):
        NONE = "", _("なし")
        NATIONAL_PRIORITY = "national_priority", _("国が挙げる重点取組事項")
        MUNICIPAL_DX = "municipal_dx", _("自治体DXの取組みとあわせて取り組むべき事項")

    policy = models.ForeignKey(
        BasicPolicy,
        verbose_name=_("基本方針"),
        on_delete=models.PROTECT,
        related_name="initiatives",
    )
    number = models.PositiveSmallIntegerField(_("取り組み番号"))
    title = models.CharField(_("取り組み"), max_length=300)
    description = models.TextField(_("内容"), blank=True)
    flag = models.CharField(_("区分"), max_length=20, choices=Flag.choices, blank=True, default="")
    national_items = models.ManyToManyField(
        NationalItem,
        verbose_name=_("デジタル・ガバメント推進項目"),
        blank=True,
        related_name="initiatives",
    )
    working_group = models.ForeignKey(
        WorkingGroup,
        verbose_name=_("担当WG"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="initiatives",
    )
    lead_section = models.ForeignKey(
        Section,
        verbose_name=_("主管課"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_initiatives",
    )
    weight = models.DecimalField(
        _("重み"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
        help_text=_("基本方針ごとの進捗集計で使う重み。空欄なら単純平均。"),
    )
    carried_from = models.ForeignKey(
        "self",
        verbose_name=_("前計画からの引継ぎ元"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="carried_to",
    )
    # What the origin's final-year review decided, as decided at carry-over (a later edit of
    # that review does not rewrite what the new plan took over).
    carried_decision = models.CharField(
        _("前計画での方針"),
        max_length=20,
        choices=CarryOverDecision.choices,
        blank=True,
        default="",
    )
    carried_act_text = models.TextField(_("前計画のAct(改善)"), blank=True)
    is_public = models.BooleanField(_("公開ページに掲載"), default=False)
    public_fields = models.JSONField(
        _("公開する項目"), default=list, blank=True, help_text=_("公開ページに出す項目のキーの一覧")
    )
    version = models.PositiveIntegerField(_("版数(同時編集の検出用)"), default=1, editable=False)
    history = HistoricalRecords(m2m_fields=[national_items])

    objects = InitiativeManager()

    class Meta:
        verbose_name = _("取り組み")
        verbose_name_plural = _("取り組み")
        ordering = ["policy__plan", "policy__number", "number"]
        constraints = [
            models.UniqueConstraint(fields=["policy", "number"], name="uniq_initiative_number")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def natural_key(self) -> tuple[str, int, int]:
        return (*self.policy.natural_key(), self.number)

    natural_key.dependencies = ["plans.basicpolicy"]  # type: ignore[attr-defined]

    @property
    def code(self) -> str:
        """ "2.3" = 基本方針2 取り組み.3, the way staff refer to it."""
        return format_initiative_code(self.policy.number, self.number)


class ProjectUnderWay(models.Model):
    """既に取り組んでいる事業等, e.g. "R3 電子申請サービス開始:情報推進課"."""

    initiative = models.ForeignKey(
        Initiative, verbose_name=_("取り組み"), on_delete=models.CASCADE, related_name="projects"
    )
    era_label = models.CharField(
        _("年(和暦表記)"), max_length=10, help_text=_("計画の表記: H30, R03 など")
    )
    fiscal_year = models.PositiveIntegerField(_("年度"), validators=FY_VALIDATORS)
    name = models.CharField(_("事業名"), max_length=300)
    section = models.ForeignKey(
        Section, verbose_name=_("担当課"), on_delete=models.PROTECT, related_name="projects"
    )
    order = models.PositiveSmallIntegerField(_("表示順"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("既に取り組んでいる事業")
        verbose_name_plural = _("既に取り組んでいる事業")
        ordering = ["initiative", "order"]
        constraints = [
            models.UniqueConstraint(fields=["initiative", "name"], name="uniq_project_name")
        ]

    def __str__(self) -> str:
        return f"{self.era_label} {self.name}:{self.section.name}"

    @property
    def section_then(self) -> str:
        """The section's name in the project's year (a later rename does not rewrite it)."""
        return self.section.name_as_of(self.fiscal_year)

    @property
    def section_now(self) -> str | None:
        """Today's name, or successors' names if the section was merged or split; None if same."""
        successors = (
            [s.name for s in self.section.successors.all()] if self.section.ended_fy else []
        )
        now = "・".join(successors) if successors else self.section.name
        return None if now == self.section_then else now

    def clean(self) -> None:
        if self.era_label:
            try:
                year = era.parse_era_year(self.era_label)
            except era.EraError as exc:
                raise ValidationError({"era_label": str(exc)}) from exc
            if self.fiscal_year and self.fiscal_year != year:
                raise ValidationError({"fiscal_year": _("年度が和暦表記と一致しません。")})
            self.fiscal_year = year


class ProgressStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("未着手")
    ON_TRACK = "on_track", _("順調")
    DELAYED = "delayed", _("遅れ")
    DONE = "done", _("完了")
    CANCELLED = "cancelled", _("中止")


MSG_PROGRESS_DATE_TAKEN = "この日付の進捗記録はすでにあります。既存の記録を編集してください。"


class ProgressEntry(models.Model):
    """One record per initiative per date: a second report on the same day edits the first."""

    initiative = models.ForeignKey(
        Initiative,
        verbose_name=_("取り組み"),
        on_delete=models.CASCADE,
        related_name="progress_entries",
    )
    entry_date = models.DateField(_("日付"), default=date.today)
    fiscal_year = models.PositiveIntegerField(_("年度"), validators=FY_VALIDATORS, editable=False)
    status = models.CharField(
        _("状況"), max_length=20, choices=ProgressStatus.choices, default=ProgressStatus.ON_TRACK
    )
    percent = models.PositiveSmallIntegerField(
        _("進捗率(%)"),
        null=True,
        blank=True,
        validators=[MaxValueValidator(100)],
        help_text=_("該当する場合のみ(0〜100)"),
    )
    done_text = models.TextField(_("実施内容"), blank=True)
    next_steps = models.TextField(_("次の予定"), blank=True)
    issues_text = models.TextField(_("課題"), blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("記録者"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="progress_entries",
    )
    created_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    version = models.PositiveIntegerField(_("版数(同時編集の検出用)"), default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("進捗記録")
        verbose_name_plural = _("進捗記録")
        ordering = ["-entry_date", "-id"]
        indexes = [
            models.Index(fields=["initiative", "-entry_date"], name="progress_init_date"),
            # The lists' "latest entry of the fiscal year" subquery (initiatives.selectors).
            models.Index(
                fields=["initiative", "fiscal_year", "-entry_date"], name="progress_init_fy_date"
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "entry_date"],
                name="uniq_progress_date",
                violation_error_message=MSG_PROGRESS_DATE_TAKEN,
            )
        ]

    def __str__(self) -> str:
        return f"{self.initiative.code} {self.entry_date} {self.get_status_display()}"

    def entry_date_bounds(self, today: date | None = None) -> date_bounds.DateBounds:
        """Where this entry's date may lie (portal_lib.date_bounds.progress_entry)."""
        return self.date_bounds_in(self.initiative.policy.plan, today)

    @staticmethod
    def date_bounds_in(plan: Plan, today: date | None = None) -> date_bounds.DateBounds:
        """Where an entry of an initiative of ``plan`` may be dated: the bounds clean()
        checks, for a caller that has the plan but no entry (the Excel import's rows)."""
        return date_bounds.progress_entry(plan, today or timezone.localdate())

    @staticmethod
    def fiscal_year_for(entry_date: date) -> int:
        """The fiscal year an entry dated ``entry_date`` counts in: the one rule, asked by
        clean() (forms, services, the admin) and the Excel import's preview alike."""
        return era.fiscal_year_of(entry_date)

    def clean(self) -> None:
        if self.entry_date and self.initiative_id is not None:
            try:
                # entry_date_bounds().check(), the bounds' text built only for a refusal
                date_bounds.check_progress_entry(
                    self.initiative.policy.plan, timezone.localdate(), self.entry_date
                )
            except date_bounds.DateOutOfBounds as exc:
                raise ValidationError({"entry_date": str(exc)}, code="out_of_bounds") from exc
        if self.entry_date:
            self.fiscal_year = self.fiscal_year_for(self.entry_date)
        if self.status == ProgressStatus.DONE and self.percent is not None and self.percent < 100:
            raise ValidationError(
                {"percent": _("状況が「完了」の場合、進捗率は100%にしてください。")}
            )


class Indicator(models.Model):
    """A KPI of an initiative, with a target and an actual per fiscal year."""

    class Direction(models.TextChoices):
        HIGHER = "higher", _("大きいほど良い")
        LOWER = "lower", _("小さいほど良い")

    initiative = models.ForeignKey(
        Initiative, verbose_name=_("取り組み"), on_delete=models.CASCADE, related_name="indicators"
    )
    name = models.CharField(_("指標名"), max_length=200)
    unit = models.CharField(_("単位"), max_length=30, blank=True)
    direction = models.CharField(
        _("評価の向き"), max_length=10, choices=Direction.choices, default=Direction.HIGHER
    )
    baseline = models.DecimalField(
        _("基準値"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    baseline_fy = models.PositiveIntegerField(_("基準年度"), null=True, blank=True)
    countable_target = models.ForeignKey(
        "CountableTarget",
        verbose_name=_("実績を数える数値目標"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="indicators",
        help_text=_(
            "設定すると、実績はこの数値目標の一覧(手続・システム)から数えた件数になります。"
        ),
    )
    order = models.PositiveSmallIntegerField(_("表示順"), default=0)
    version = models.PositiveIntegerField(_("版数(同時編集の検出用)"), default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("指標(KPI)")
        verbose_name_plural = _("指標(KPI)")
        ordering = ["initiative", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["initiative", "name"], name="uniq_indicator_name")
        ]

    def __str__(self) -> str:
        return self.name


class Grade(models.TextChoices):
    A = "A", _("A(目標達成)")
    B = "B", _("B(概ね目標どおり)")
    C = "C", _("C(目標を下回る)")
    D = "D", _("D(評価できない)")


# The grade of an indicator-year whose target or actual is missing while its fiscal year is
# still running (or has not started): not yet assessable, so counted apart, never as D.
UNGRADED = "none"
UNGRADED_LABEL = _("未評価")
# (key, short label) of every grade a distribution counts, in this order: they add up to the
# number of indicators.
GRADE_KEYS: list[tuple[str, str]] = [
    *((g.value, g.value) for g in Grade),
    (UNGRADED, UNGRADED_LABEL),
]
# key -> the label shown beside a single grade (未評価 included).
GRADE_LABELS: dict[str, str | Promise] = {**dict(Grade.choices), UNGRADED: UNGRADED_LABEL}


# The grade rule, stated once and shown beside every grade (templates/includes/grade_rule.html).
GRADE_A_RATIO = Decimal("1.00")  # reaching the target is A (目標達成)
GRADE_B_RATIO = Decimal("0.90")
# Marked, not translated: a plain str for code and tests; pages show it via {% translate %}.
GRADE_RULE_TEXT = gettext_noop(
    # One literal, so that the catalog holds it whole; tests/rules/test_grade_rule.py checks
    # that its thresholds are GRADE_A_RATIO and GRADE_B_RATIO.
    "達成率 = 実績 ÷ 目標(小さいほど良い指標は 目標 ÷ 実績)。"
    "A: 100%以上(目標達成)、B: 90%以上100%未満、C: 90%未満。"
    "目標または実績が未入力の年度は、その年度の間は未評価、年度が終わるとD(評価できない)。"
)


def grade_label(key: str) -> str | Promise:
    """The label of a grade key (A–D or UNGRADED), as every page and file shows it."""
    return GRADE_LABELS.get(key, key)


def grade_text(key: str) -> str:
    """A grade in a cell of a file or a line of text: A, B, C as they are, "D(評価できない)",
    "未評価" (the pages show the same with includes/grade_badge.html)."""
    if key in (Grade.D, UNGRADED):
        return str(grade_label(key))
    return key


def fiscal_year_has_ended(fiscal_year: int, today: date) -> bool:
    """Whether the fiscal year (April–March) is over on ``today``."""
    return today > era.fiscal_year_end(fiscal_year)


class IndicatorValue(models.Model):
    indicator = models.ForeignKey(
        Indicator, verbose_name=_("指標"), on_delete=models.CASCADE, related_name="values"
    )
    fiscal_year = models.PositiveIntegerField(_("年度"), validators=FY_VALIDATORS)
    target = models.DecimalField(
        _("目標値"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    actual = models.DecimalField(
        _("実績値"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    note = models.CharField(_("備考"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("指標の目標・実績")
        verbose_name_plural = _("指標の目標・実績")
        ordering = ["indicator", "fiscal_year"]
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "fiscal_year"], name="uniq_indicator_value_year"
            )
        ]

    # For an indicator linked to a countable target: the count of the target's rows done by
    # the end of the year, set by initiatives.selectors.attach_counted_actuals (not stored).
    counted_actual: Decimal | None = None

    def __str__(self) -> str:
        return f"{self.indicator} {era.era_label(self.fiscal_year)}"

    @property
    def shown_actual(self) -> Decimal | None:
        """The actual every page shows and grades: the count from the rows when linked."""
        return self.counted_actual if self.counted_actual is not None else self.actual

    @property
    def actual_disagrees(self) -> bool:
        """A typed actual that differs from the count of the rows (shown next to it)."""
        return (
            self.counted_actual is not None
            and self.actual is not None
            and self.actual != self.counted_actual
        )

    @property
    def achievement(self) -> Decimal | None:
        """Achievement ratio (1 = exactly on target), or None when not assessable."""
        actual = self.shown_actual
        if self.target is None or actual is None:
            return None
        if self.indicator.direction == Indicator.Direction.LOWER:
            if actual == 0:
                return GRADE_A_RATIO if self.target >= 0 else None
            return self.target / actual
        if self.target == 0:
            return None
        return actual / self.target

    def grade_on(self, today: date) -> str:
        """The one grade rule (GRADE_RULE_TEXT): A/B/C by the achievement ratio; a missing
        target or actual is UNGRADED (未評価) while the fiscal year runs, D once it has ended.
        Every page, report, file and the API ask this (through ``grade`` or
        initiatives.selectors.indicator_grade); ``today`` is the day the grade is read on."""
        actual = self.shown_actual
        if self.target is None or actual is None:
            return Grade.D if fiscal_year_has_ended(self.fiscal_year, today) else UNGRADED
        ratio = self.achievement
        if ratio is None:
            # A target of 0 to exceed (no ratio): reaching it is A, missing it is C.
            lower = self.indicator.direction == Indicator.Direction.LOWER
            reached = actual <= self.target if lower else actual >= self.target
            return Grade.A if reached else Grade.C
        if ratio >= GRADE_A_RATIO:
            return Grade.A
        if ratio >= GRADE_B_RATIO:
            return Grade.B
        return Grade.C

    @property
    def grade(self) -> str:
        """The grade today (Asia/Tokyo): see grade_on."""
        return self.grade_on(timezone.localdate())

    @property
    def grade_label(self) -> str | Promise:
        return grade_label(self.grade)


class Review(models.Model):
    """The yearly PDCA review of one initiative."""

    class State(models.TextChoices):
        DRAFT = "draft", _("下書き")
        SUBMITTED = "submitted", _("提出済")
        RETURNED = "returned", pgettext_lazy("review state", "差戻し")
        CHECKED = "checked", _("確認済")
        APPROVED = "approved", _("承認済")

    CarryOver = CarryOverDecision

    # The decisions that carry an initiative into the next plan (the carry-over preview, the
    # carry-over itself and its page all ask this set, through carries_over).
    CARRYING_DECISIONS = frozenset(
        {CarryOverDecision.CONTINUE, CarryOverDecision.EXPAND, CarryOverDecision.REVISE}
    )

    initiative = models.ForeignKey(
        Initiative, verbose_name=_("取り組み"), on_delete=models.CASCADE, related_name="reviews"
    )
    fiscal_year = models.PositiveIntegerField(_("年度"), validators=FY_VALIDATORS)
    plan_text = models.TextField(_("Plan(計画)"), blank=True)
    do_text = models.TextField(_("Do(実行)"), blank=True)
    check_text = models.TextField(_("Check(評価)"), blank=True)
    act_text = models.TextField(_("Act(改善)"), blank=True)
    self_grade = models.CharField(_("自己評価"), max_length=1, choices=Grade.choices, blank=True)
    carry_over = models.CharField(
        _("次年度・次期計画への方針"),
        max_length=20,
        choices=CarryOver.choices,
        blank=True,
        default="",
    )
    carry_over_note = models.TextField(_("方針の説明"), blank=True)
    state = models.CharField(_("状態"), max_length=20, choices=State.choices, default=State.DRAFT)
    due_date = models.DateField(_("提出期限"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新日時"), auto_now=True)
    version = models.PositiveIntegerField(_("版数(同時編集の検出用)"), default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("PDCA振り返り")
        verbose_name_plural = _("PDCA振り返り")
        ordering = ["-fiscal_year", "initiative"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "fiscal_year"], name="uniq_review_initiative_year"
            )
        ]

    def __str__(self) -> str:
        return _("%(code)s %(year)sの振り返り") % {
            "code": self.initiative.code,
            "year": era.era_label(self.fiscal_year, short=False),
        }

    def clean(self) -> None:
        if self.due_date and self.fiscal_year:
            try:
                date_bounds.review_due(self.fiscal_year).check(self.due_date)
            except date_bounds.DateOutOfBounds as exc:
                raise ValidationError({"due_date": str(exc)}, code="out_of_bounds") from exc

    @property
    def is_locked(self) -> bool:
        return self.state == self.State.APPROVED

    @property
    def carries_over(self) -> bool:
        """Whether this review's decision carries the initiative into the next plan."""
        return self.carry_over in self.CARRYING_DECISIONS

    @property
    def ends_initiative(self) -> bool:
        """完了 or 廃止: the initiative ends with its plan (listed as such, not carried)."""
        return self.carry_over in ENDING_DECISIONS


class ReviewEvent(models.Model):
    """One move of a review through its states: who, when, why."""

    review = models.ForeignKey(
        Review, verbose_name=_("振り返り"), on_delete=models.CASCADE, related_name="events"
    )
    from_state = models.CharField(
        _("変更前"), max_length=20, choices=Review.State.choices, blank=True
    )
    to_state = models.CharField(_("変更後"), max_length=20, choices=Review.State.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作者"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="review_events",
    )
    comment = models.TextField(_("コメント"), blank=True)
    at = models.DateTimeField(_("日時"), auto_now_add=True)

    class Meta:
        verbose_name = _("振り返りの操作履歴")
        verbose_name_plural = _("振り返りの操作履歴")
        ordering = ["review", "at", "id"]

    def __str__(self) -> str:
        return f"{self.review}: {self.get_from_state_display()} → {self.get_to_state_display()}"

    # The comment the portal itself writes when a round is opened in bulk. It is stored in
    # Japanese (the record) and shown in the reader's language.
    BULK_OPENED = "一括作成(提出期限 %(due)s)"
    _BULK_OPENED = re.compile(r"^一括作成\(提出期限 (?P<due>\d{4}-\d{2}-\d{2})\)$")

    @classmethod
    def bulk_opened_comment(cls, due_date: date) -> str:
        return cls.BULK_OPENED % {"due": f"{due_date:%Y-%m-%d}"}

    @property
    def shown_comment(self) -> str:
        """The comment as shown: staff's words as typed, the portal's own in the reader's
        language."""
        match = self._BULK_OPENED.match(self.comment)
        if match:
            try:
                due = era.format_date(date.fromisoformat(match["due"]))
            except ValueError:
                due = match["due"]
            return _("一括作成(提出期限 %(due)s)") % {"due": due}
        return self.comment


class CountableTargetManager(models.Manager["CountableTarget"]):
    def get_by_natural_key(self, code: str) -> CountableTarget:
        return self.get(code=code)


class CountableTarget(models.Model):
    """A countable goal of the plan (27 online procedures, 20 standardised systems)."""

    code = models.SlugField(_("コード"), max_length=50, unique=True)
    plan = models.ForeignKey(
        Plan, verbose_name=_("計画"), on_delete=models.CASCADE, related_name="countable_targets"
    )
    name = models.CharField(_("目標名"), max_length=200)
    target_count = models.PositiveIntegerField(_("目標数"))
    deadline_fy = models.PositiveIntegerField(
        _("期限(年度末)"), validators=FY_VALIDATORS, help_text=_("この年度の末日(3月31日)が期限")
    )
    initiative = models.ForeignKey(
        Initiative,
        verbose_name=_("取り組み"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="countable_targets",
    )
    schedule_row = models.ForeignKey(
        ScheduleRow,
        verbose_name=_("表4-1の行"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="countable_targets",
    )
    history = HistoricalRecords()

    objects = CountableTargetManager()

    class Meta:
        verbose_name = _("数値目標")
        verbose_name_plural = _("数値目標")
        ordering = ["plan", "deadline_fy"]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.code,)

    @property
    def working_group_id(self) -> int | None:
        """The WG answerable for this target: the WG of its linked initiative (None if unlinked).

        The one definition of "the WG of a countable target"; access checks ask it. Load the
        target with select_related("initiative") and this costs no query.
        """
        return self.initiative.working_group_id if self.initiative_id else None

    @property
    def deadline(self) -> date:
        return era.fiscal_year_end(self.deadline_fy)

    @property
    def deadline_label(self) -> str:
        return _("%(year)s末(%(date)s)") % {
            "year": era.era_label(self.deadline_fy, short=False),
            "date": f"{self.deadline:%Y-%m-%d}",
        }


class Confirmation(models.TextChoices):
    """Whether the secretariat has confirmed where a row of a countable target stands.

    The one rule for "confirmed" (procedures and systems alike): the row's ``confirmation``
    is CONFIRMED. It is set only explicitly: the 確認 button of the list
    (``initiatives.services.countable_confirm``) or the 確認済み column of the Excel sheet
    (``reporting.exchange.sheets``), each stamping who and when (``stamp_confirmation``).
    Saving a row, moving it off 未着手, or loading it never confirms it.
    """

    UNCONFIRMED = "unconfirmed", _("未確認")
    CONFIRMED = "confirmed", _("確認済")

    @staticmethod
    def confirmed_q() -> models.Q:
        """The rule as a filter (the checklist's count, the lists' 未確認 filter)."""
        return models.Q(confirmation=Confirmation.CONFIRMED)


def stamp_confirmation(row: OnlineProcedure | StandardSystem, *, by: object, at: object) -> None:
    """Record who confirmed ``row`` and when, after its ``confirmation`` was set (or clear
    the record when it was taken back). The 確認 button and the Excel import both call it."""
    if row.confirmation == Confirmation.CONFIRMED:
        row.confirmed_by = by  # type: ignore[assignment]
        row.confirmed_at = at  # type: ignore[assignment]
    else:
        row.confirmed_by = None
        row.confirmed_at = None


class OnlineProcedure(models.Model):
    """One of the 27 procedures to bring online by R4年度末."""

    class Provenance(models.TextChoices):
        NATIONAL = "national", _("国の指定手続")
        CITY = "city", _("市で追加")

    class Channel(models.TextChoices):
        PITTARI = "pittari", _("ぴったりサービス")
        CITY = "city", _("市の電子申請サービス")
        VENDOR = "vendor", _("ベンダー提供の申請サービス")
        OTHER = "other", _("その他")

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("未着手")
        PREPARING = "preparing", _("準備中")
        ONLINE = "online", _("オンライン化済")

    target = models.ForeignKey(
        CountableTarget,
        verbose_name=_("数値目標"),
        on_delete=models.PROTECT,
        related_name="procedures",
    )
    number = models.PositiveSmallIntegerField(_("番号"))
    name = models.CharField(_("手続名"), max_length=300)
    category = models.CharField(
        _("分野"), max_length=100, blank=True, help_text=_("子育て、介護 など")
    )
    channel = models.CharField(_("申請手段"), max_length=20, choices=Channel.choices, blank=True)
    section = models.ForeignKey(
        Section,
        verbose_name=_("担当課"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="online_procedures",
    )
    status = models.CharField(
        _("状況"), max_length=20, choices=Status.choices, default=Status.NOT_STARTED
    )
    online_on = models.DateField(_("オンライン化日"), null=True, blank=True)
    provenance = models.CharField(
        _("出典"), max_length=20, choices=Provenance.choices, default=Provenance.CITY
    )
    confirmation = models.CharField(
        _("確認"),
        max_length=20,
        choices=Confirmation.choices,
        default=Confirmation.UNCONFIRMED,
        help_text=_("初期データの状況は、事務局が確認するまで「未確認」です。"),
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("確認した人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("確認日時"), null=True, blank=True)
    note = models.TextField(_("備考"), blank=True)
    version = models.PositiveIntegerField(_("版数(同時編集の検出用)"), default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("オンライン化手続")
        verbose_name_plural = _("オンライン化手続")
        ordering = ["target", "number"]
        constraints = [
            models.UniqueConstraint(fields=["target", "number"], name="uniq_procedure_number")
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.name}"

    @property
    def is_confirmed(self) -> bool:
        """The secretariat has confirmed where this row stands (the one rule: Confirmation)."""
        return self.confirmation == Confirmation.CONFIRMED

    @property
    def is_done(self) -> bool:
        return self.status == self.Status.ONLINE

    @property
    def done_on(self) -> date | None:
        return self.online_on if self.is_done else None

    def is_overdue(self, today: date) -> bool:
        """Confirmed, not online, and R4年度末 has passed (an unconfirmed row is no alarm)."""
        return self.is_confirmed and not self.is_done and today > self.target.deadline

    def clean(self) -> None:
        if self.status == self.Status.ONLINE and self.online_on is None:
            raise ValidationError(
                {"online_on": _("オンライン化済の場合はオンライン化日を入力してください。")}
            )
        if self.online_on and self.status != self.Status.ONLINE:
            raise ValidationError(
                {"status": _("オンライン化日がある場合、状況は「オンライン化済」にしてください。")}
            )


class SystemGroupManager(models.Manager["SystemGroup"]):
    def get_by_natural_key(self, target_code: str, number: int) -> SystemGroup:
        return self.get(target__code=target_code, number=number)


class SystemGroup(models.Model):
    """第1〜第3グループ of the 20 standardisation target systems."""

    target = models.ForeignKey(
        CountableTarget, verbose_name=_("数値目標"), on_delete=models.PROTECT, related_name="groups"
    )
    number = models.PositiveSmallIntegerField(_("グループ番号"))
    schedule_row = models.ForeignKey(
        ScheduleRow,
        verbose_name=_("表4-1の行"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="system_groups",
    )
    history = HistoricalRecords()

    objects = SystemGroupManager()

    class Meta:
        verbose_name = _("標準化対象システムのグループ")
        verbose_name_plural = _("標準化対象システムのグループ")
        ordering = ["target", "number"]
        constraints = [
            models.UniqueConstraint(fields=["target", "number"], name="uniq_system_group")
        ]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str, int]:
        return (self.target.code, self.number)

    @property
    def name(self) -> str:
        return _("第%(number)sグループ") % {"number": self.number}


class StandardSystem(models.Model):
    """One of the 20 systems to move to the standardised (Government Cloud) systems."""

    class Phase(models.TextChoices):
        NOT_STARTED = "not_started", _("未着手")
        SPEC_REVIEW = "spec_review", _("標準仕様の確認")
        FIT_GAP = "fit_gap", _("Fit&Gap分析")
        PROCUREMENT = "procurement", _("調達・契約")
        MIGRATING = "migrating", _("移行・テスト")
        DONE = "done", _("移行完了(稼働)")

    group = models.ForeignKey(
        SystemGroup, verbose_name=_("グループ"), on_delete=models.PROTECT, related_name="systems"
    )
    number = models.PositiveSmallIntegerField(_("番号"), unique=True)
    name = models.CharField(_("業務・システム名"), max_length=100)
    section = models.ForeignKey(
        Section,
        verbose_name=_("主管課"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="standard_systems",
    )
    phase = models.CharField(
        _("移行フェーズ"), max_length=20, choices=Phase.choices, default=Phase.NOT_STARTED
    )
    planned_on = models.DateField(_("移行予定日"), null=True, blank=True)
    migrated_on = models.DateField(_("移行完了日"), null=True, blank=True)
    difficult = models.BooleanField(
        _("移行困難システム"),
        default=False,
        help_text=_(
            "期限(R7年度末)までの移行が困難と国に届け出たシステム。移行予定日が新しい期限です。"
        ),
    )
    confirmation = models.CharField(
        _("確認"),
        max_length=20,
        choices=Confirmation.choices,
        default=Confirmation.UNCONFIRMED,
        help_text=_("初期データのフェーズは、事務局が確認するまで「未確認」です。"),
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("確認した人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("確認日時"), null=True, blank=True)
    note = models.TextField(_("備考"), blank=True)
    version = models.PositiveIntegerField(_("版数(同時編集の検出用)"), default=1, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("標準化対象システム")
        verbose_name_plural = _("標準化対象システム")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.marker}{self.name}"

    @property
    def marker(self) -> str:
        return circled(self.number)

    @property
    def is_confirmed(self) -> bool:
        """The secretariat has confirmed where this row stands (the one rule: Confirmation)."""
        return self.confirmation == Confirmation.CONFIRMED

    @property
    def is_done(self) -> bool:
        return self.phase == self.Phase.DONE

    @property
    def done_on(self) -> date | None:
        return self.migrated_on if self.is_done else None

    @property
    def deadline(self) -> date:
        return self.group.target.deadline

    @property
    def migrated_late(self) -> bool:
        """期限後移行: migrated, but after R7年度末 (derived from the date, never typed)."""
        return self.is_done and self.migrated_on is not None and self.migrated_on > self.deadline

    @property
    def timing_label(self) -> str:
        if self.is_done:
            return _("期限後移行") if self.migrated_late else _("期限内に移行")
        if self.difficult:
            return _("移行困難システム")
        return ""

    def is_overdue(self, today: date) -> bool:
        """Confirmed, not migrated, and its due date has passed: R7年度末, or for a
        移行困難システム its own planned date (an earlier planned date counts too)."""
        if not self.is_confirmed or self.is_done:
            return False
        if self.planned_on is not None and self.planned_on < today:
            return True
        return not self.difficult and today > self.deadline

    def clean(self) -> None:
        if self.difficult and self.planned_on is None:
            raise ValidationError(
                {"planned_on": "移行困難システムの場合は移行予定日を入力してください。"}
            )
        if self.phase == self.Phase.DONE and self.migrated_on is None:
            raise ValidationError(
                {"migrated_on": _("移行完了の場合は移行完了日を入力してください。")}
            )
        if self.migrated_on and self.phase != self.Phase.DONE:
            raise ValidationError(
                {"phase": _("移行完了日がある場合、フェーズは「移行完了(稼働)」にしてください。")}
            )


def progress_dates_out_of_bounds(plans: Any, today: date) -> models.Q:
    """Progress entries dated outside their bounds (portal_lib.date_bounds.progress_entry),
    as one condition over ``plans`` (the admin's list filter, the data migration's report)."""
    condition = models.Q(pk__in=[])
    for plan in plans:
        bounds = date_bounds.progress_entry(plan, today)
        outside = models.Q(entry_date__lt=bounds.first) | models.Q(entry_date__gt=bounds.last)
        condition |= models.Q(initiative__policy__plan=plan.pk) & outside
    return condition
