"""The plan itself as data: plans, versions, related plans, policies, table 4-1."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from portal_lib import era

FY_VALIDATORS = [MinValueValidator(1989), MaxValueValidator(2200)]


class PlanManager(models.Manager["Plan"]):
    def get_by_natural_key(self, code: str) -> Plan:
        return self.get(code=code)


class PlanStatus(models.TextChoices):
    """A plan's life: drafted from the one before, adopted (決定) on a date, then in force."""

    DRAFT = "draft", _("策定中")
    ADOPTED = "adopted", _("決定")
    IN_FORCE = "in_force", _("施行中")
    ENDED = "ended", _("終了")


class Plan(models.Model):
    """One DX plan with its period; the plan after R8 lives beside this one."""

    code = models.SlugField(_("計画コード"), max_length=50, unique=True)
    name = models.CharField(_("計画名"), max_length=200)
    theme = models.TextField(_("理念(テーマ)"), blank=True)
    goal = models.TextField(_("目標"), blank=True)
    start_fy = models.PositiveIntegerField(_("計画期間(開始年度)"), validators=FY_VALIDATORS)
    end_fy = models.PositiveIntegerField(_("計画期間(終了年度)"), validators=FY_VALIDATORS)
    predecessor = models.ForeignKey(
        "self",
        verbose_name=_("前計画"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="successors",
    )
    description = models.TextField(_("説明"), blank=True)
    status = models.CharField(
        _("状態"), max_length=12, choices=PlanStatus.choices, default=PlanStatus.IN_FORCE
    )
    adopted_on = models.DateField(_("決定日"), null=True, blank=True)
    in_force_from = models.DateField(
        _("施行日"),
        null=True,
        blank=True,
        help_text=_("この日から計画が施行されます(空欄は計画期間の初年度の4月1日)"),
    )
    history = HistoricalRecords()

    objects = PlanManager()

    class Meta:
        verbose_name = _("計画")
        verbose_name_plural = _("計画")
        ordering = ["start_fy", "code"]
        constraints = [
            # At most one successor per plan: two concurrent 「次期計画を作成」 write once.
            models.UniqueConstraint(
                fields=["predecessor"],
                condition=models.Q(predecessor__isnull=False),
                name="uniq_plan_successor",
                violation_error_message="この計画の次期計画はすでに作成されています。",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def natural_key(self) -> tuple[str]:
        return (self.code,)

    def clean(self) -> None:
        if self.start_fy and self.end_fy and self.end_fy < self.start_fy:
            raise ValidationError({"end_fy": _("終了年度は開始年度以降にしてください。")})

    @property
    def fiscal_years(self) -> list[int]:
        return era.fiscal_years(self.start_fy, self.end_fy)

    @property
    def period_label(self) -> str:
        return _("%(start)s〜%(end)s") % {
            "start": era.format_fiscal_year(self.start_fy),
            "end": era.format_fiscal_year(self.end_fy),
        }

    @property
    def in_force_start(self) -> date:
        """The day the plan is in force from: in_force_from, else 1 April of its first year."""
        return self.in_force_from or era.fiscal_year_start(self.start_fy)

    def covers(self, fiscal_year: int) -> bool:
        return self.start_fy <= fiscal_year <= self.end_fy

    def can_follow(self, other: Plan) -> bool:
        """Whether this plan may take over ``other``'s initiatives: it starts after it ends."""
        return self.pk != other.pk and self.start_fy > other.end_fy

    @staticmethod
    def covering(fiscal_year: int, *, via: str = "") -> models.Q:
        """covers() as a query filter: ``via`` is the lookup path to the plan, e.g. "policy__plan"."""
        prefix = f"{via}__" if via else ""
        return models.Q(
            **{f"{prefix}start_fy__lte": fiscal_year, f"{prefix}end_fy__gte": fiscal_year}
        )

    @property
    def latest_version(self) -> PlanVersion | None:
        return self.versions.order_by("-issued_fy", "-number").first()


class PlanVersionManager(models.Manager["PlanVersion"]):
    def get_by_natural_key(self, plan_code: str, number: str) -> PlanVersion:
        return self.get(plan__code=plan_code, number=number)


class IssuedPrecision(models.TextChoices):
    """How precisely the plan states its own date: 令和4年2月20日, 令和4年2月, 令和3年度."""

    DAY = "day", _("日")
    MONTH = "month", _("月")
    FY = "fy", _("年度")


class PlanVersion(models.Model):
    """第0.5版, 第1.0版, …: the plan says it is "versioned up" as the WGs work."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("計画"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.CharField(_("版"), max_length=10, help_text=_("例: 1.0"))
    issued_fy = models.PositiveIntegerField(_("策定年度"), validators=FY_VALIDATORS)
    issued_on = models.DateField(
        _("策定年月"), null=True, blank=True, help_text=_("月単位の場合はその月の1日")
    )
    issued_precision = models.CharField(
        _("決定日の精度"),
        max_length=5,
        choices=IssuedPrecision.choices,
        default=IssuedPrecision.FY,
        help_text=_("計画書が日付まで示すか、月だけか、年度だけか"),
    )
    revision_of = models.ForeignKey(
        "self",
        verbose_name=_("改訂元の版"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="revisions",
        help_text=_("決定後に開いた改訂(第2.1版…)の元になった版"),
    )
    summary = models.TextField(_("主な変更内容"), blank=True)
    content = models.JSONField(
        _("確定時の内容"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("版の確定時に凍結した計画の内容(基本方針・取り組み・事業・指標・表4-1)"),
    )
    frozen_at = models.DateTimeField(_("内容の確定日時"), null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["content"])

    objects = PlanVersionManager()

    class Meta:
        verbose_name = _("計画の版")
        verbose_name_plural = _("計画の版")
        ordering = ["plan", "issued_fy", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="uniq_plan_version_number"),
            # One open revision per plan at a time (第2.1版 while it is drafted).
            models.UniqueConstraint(
                fields=["plan"],
                condition=models.Q(revision_of__isnull=False, frozen_at__isnull=True),
                name="uniq_open_revision_per_plan",
                violation_error_message="この計画の改訂はすでに作成中です。",
            ),
        ]

    def __str__(self) -> str:
        return _("%(plan)s【第%(number)s版】") % {"plan": self.plan.name, "number": self.number}

    def natural_key(self) -> tuple[str, str]:
        return (self.plan.code, self.number)

    natural_key.dependencies = ["plans.plan"]  # type: ignore[attr-defined]

    @property
    def label(self) -> str:
        return _("第%(number)s版") % {"number": self.number}

    @property
    def issued_label(self) -> str:
        """The decision date as precisely as the plan states it (令和4年2月 / 令和3年度)."""
        if self.issued_on and self.issued_precision != IssuedPrecision.FY:
            month = era.format_era_month(self.issued_on.year, self.issued_on.month)
            if self.issued_precision == IssuedPrecision.DAY:
                return str(_("%(month)s%(day)s日") % {"month": month, "day": self.issued_on.day})
            return month
        return era.era_label(self.issued_fy, short=False)

    @property
    def is_open_revision(self) -> bool:
        return self.revision_of_id is not None and self.frozen_at is None


class PlanChapter(models.Model):
    """A narrative chapter of a plan version (1 背景と目的 … 5 基本方針), as editable text.

    ``body`` is plain text: paragraphs separated by a blank line, a line starting with
    "### " is a sub-heading and one starting with "- " a bullet. Chapters with data of
    their own (table 4-1, the basic policies, chapter 6) are rendered from the data after
    their text.
    """

    version = models.ForeignKey(
        PlanVersion, verbose_name="版", on_delete=models.CASCADE, related_name="chapters"
    )
    number = models.PositiveSmallIntegerField("章")
    title = models.CharField("章題", max_length=200)
    body = models.TextField("本文", blank=True, max_length=50000)
    # The optimistic-lock version (portal_lib.versioning): ``version`` is this chapter's plan
    # version here, so the lock has another name.
    revision = models.PositiveIntegerField("版数(同時編集の検出用)", default=1, editable=False)
    history = HistoricalRecords()

    VERSION_FIELD = "revision"

    class Meta:
        verbose_name = _("計画の章")
        verbose_name_plural = _("計画の章")
        ordering = ["version", "number"]
        constraints = [
            models.UniqueConstraint(fields=["version", "number"], name="uniq_chapter_number")
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def blocks(self) -> list[tuple[str, str]]:
        """The body as (kind, text) blocks: "h" sub-heading, "li" bullet, "p" paragraph."""
        out: list[tuple[str, str]] = []
        for raw in self.body.split("\n\n"):
            for line in raw.splitlines():
                text = line.strip()
                if not text:
                    continue
                if text.startswith("### "):
                    out.append(("h", text[4:].strip()))
                elif text.startswith("- "):
                    out.append(("li", text[2:].strip()))
                else:
                    out.append(("p", text))
        return out


class RelatedPlan(models.Model):
    """Upper and related plans the DX plan must stay consistent with."""

    class Kind(models.TextChoices):
        UPPER = "upper", _("上位計画")
        RELATED = "related", _("関連計画")

    plan = models.ForeignKey(
        Plan, verbose_name=_("計画"), on_delete=models.CASCADE, related_name="related_plans"
    )
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("区分"), max_length=10, choices=Kind.choices, default=Kind.RELATED)
    issuer = models.CharField(
        _("策定主体"), max_length=50, blank=True, help_text=_("国、石川県、かほく市")
    )
    decided_on = models.DateField(_("決定日"), null=True, blank=True)
    note = models.TextField(_("備考"), blank=True)
    order = models.PositiveSmallIntegerField(_("表示順"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("上位計画・関連計画")
        verbose_name_plural = _("上位計画・関連計画")
        ordering = ["plan", "order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "name"], name="uniq_related_plan_name")
        ]

    def __str__(self) -> str:
        return self.name


class NationalItemManager(models.Manager["NationalItem"]):
    def get_by_natural_key(self, number: int) -> NationalItem:
        return self.get(number=number)


class NationalItem(models.Model):
    """The national Digital Government items ① to ⑦, a taxonomy for tagging."""

    number = models.PositiveSmallIntegerField(_("番号"), unique=True)
    title = models.CharField(_("項目"), max_length=200)
    history = HistoricalRecords()

    objects = NationalItemManager()

    class Meta:
        verbose_name = _("デジタル・ガバメント推進項目")
        verbose_name_plural = _("デジタル・ガバメント推進項目")
        ordering = ["number"]

    def __str__(self) -> str:
        return f"{self.marker} {self.title}"

    def natural_key(self) -> tuple[int]:
        return (self.number,)

    @property
    def marker(self) -> str:
        return circled(self.number)


def circled(number: int) -> str:
    """①..⑳ as the plan writes them."""
    if 1 <= number <= 20:
        return chr(0x2460 + number - 1)
    return f"({number})"


class BasicPolicyManager(models.Manager["BasicPolicy"]):
    def get_by_natural_key(self, plan_code: str, number: int) -> BasicPolicy:
        return self.get(plan__code=plan_code, number=number)


class BasicPolicy(models.Model):
    plan = models.ForeignKey(
        Plan, verbose_name=_("計画"), on_delete=models.CASCADE, related_name="policies"
    )
    number = models.PositiveSmallIntegerField(_("番号"))
    title = models.CharField(_("基本方針"), max_length=200)
    heading = models.CharField(
        _("取組内容での見出し"), max_length=200, blank=True, help_text=_("第6章の表題(異なる場合)")
    )
    summary = models.TextField(_("概要"), blank=True)
    classification = models.TextField(_("基本方針の分類(第5章の説明)"), blank=True)
    history = HistoricalRecords()

    objects = BasicPolicyManager()

    class Meta:
        verbose_name = _("基本方針")
        verbose_name_plural = _("基本方針")
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="uniq_policy_number")
        ]

    def __str__(self) -> str:
        return _("基本方針%(number)s %(title)s") % {"number": self.number, "title": self.title}

    def natural_key(self) -> tuple[str, int]:
        return (self.plan.code, self.number)

    natural_key.dependencies = ["plans.plan"]  # type: ignore[attr-defined]


class ScheduleItemManager(models.Manager["ScheduleItem"]):
    def get_by_natural_key(self, plan_code: str, order: int) -> ScheduleItem:
        return self.get(plan__code=plan_code, order=order)


class ScheduleItem(models.Model):
    """One 項目 of table 4-1; its rows (lines) continue it downwards."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("計画"), on_delete=models.CASCADE, related_name="schedule_items"
    )
    order = models.PositiveSmallIntegerField(_("表示順"))
    title = models.CharField(_("項目"), max_length=300)
    history = HistoricalRecords()

    objects = ScheduleItemManager()

    class Meta:
        verbose_name = _("スケジュール項目(表4-1)")
        verbose_name_plural = _("スケジュール項目(表4-1)")
        ordering = ["plan", "order"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "order"], name="uniq_schedule_item_order")
        ]

    def __str__(self) -> str:
        return self.title

    def natural_key(self) -> tuple[str, int]:
        return (self.plan.code, self.order)

    natural_key.dependencies = ["plans.plan"]  # type: ignore[attr-defined]


class ScheduleRowManager(models.Manager["ScheduleRow"]):
    def get_by_natural_key(self, plan_code: str, item_order: int, line: int) -> ScheduleRow:
        return self.get(item__plan__code=plan_code, item__order=item_order, line=line)


class ScheduleRow(models.Model):
    """A line of table 4-1: 副項目 plus one cell per fiscal year."""

    item = models.ForeignKey(
        ScheduleItem, verbose_name=_("項目"), on_delete=models.CASCADE, related_name="rows"
    )
    line = models.PositiveSmallIntegerField(_("行番号"), help_text=_("項目内の行番号(1から)"))
    sub_title = models.CharField(_("副項目"), max_length=300, blank=True)
    initiative = models.ForeignKey(
        "initiatives.Initiative",
        verbose_name=_("関連する取り組み"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="schedule_rows",
    )
    history = HistoricalRecords()

    objects = ScheduleRowManager()

    class Meta:
        verbose_name = _("スケジュール行(表4-1)")
        verbose_name_plural = _("スケジュール行(表4-1)")
        ordering = ["item__plan", "item__order", "line"]
        constraints = [
            models.UniqueConstraint(fields=["item", "line"], name="uniq_schedule_row_line")
        ]

    def __str__(self) -> str:
        label = self.item.title
        if self.sub_title:
            label += f" / {self.sub_title}"
        return _("%(label)s (%(line)s行目)") % {"label": label, "line": self.line}

    def natural_key(self) -> tuple[str, int, int]:
        return (*self.item.natural_key(), self.line)

    natural_key.dependencies = ["plans.scheduleitem"]  # type: ignore[attr-defined]


class ScheduleCell(models.Model):
    """One fiscal-year cell of a schedule row. An absent cell is an empty one."""

    class Kind(models.TextChoices):
        MARKER = "marker", _("記号(○)")
        TEXT = "text", _("マイルストーン")
        STATUS = "status", _("状況")

    row = models.ForeignKey(
        ScheduleRow, verbose_name=_("行"), on_delete=models.CASCADE, related_name="cells"
    )
    fiscal_year = models.PositiveIntegerField(_("年度"), validators=FY_VALIDATORS)
    kind = models.CharField(_("種別"), max_length=10, choices=Kind.choices, default=Kind.TEXT)
    text = models.CharField(_("内容"), max_length=500)
    col_span = models.PositiveSmallIntegerField(
        _("横方向の結合(年度数)"), default=1, validators=[MinValueValidator(1)]
    )
    row_span = models.PositiveSmallIntegerField(
        _("縦方向の結合(行数)"), default=1, validators=[MinValueValidator(1)]
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("スケジュールのセル(表4-1)")
        verbose_name_plural = _("スケジュールのセル(表4-1)")
        ordering = ["row", "fiscal_year"]
        constraints = [
            models.UniqueConstraint(fields=["row", "fiscal_year"], name="uniq_schedule_cell_year")
        ]

    def __str__(self) -> str:
        return f"{era.era_label(self.fiscal_year)}: {self.text}"

    def clean(self) -> None:
        self.text = (self.text or "").strip()
        if not self.text:
            raise ValidationError(
                {"text": _("セルの内容が空です。空欄にする場合はセルを削除してください。")}
            )
        if self.text in MARKERS:
            self.kind = self.Kind.MARKER
        elif self.kind == self.Kind.MARKER:
            raise ValidationError(
                {
                    "text": _("記号のセルには %(choices)s のいずれかを入力してください。")
                    % {"choices": "、".join(MARKERS)}
                }
            )
        if self.kind == self.Kind.STATUS and self.text not in LEASE_STATUSES:
            raise ValidationError(
                {
                    "text": _("状況は %(choices)s のいずれかを入力してください。")
                    % {"choices": "、".join(LEASE_STATUSES)}
                }
            )


MARKERS = ("○", "◯", "●", "◎")
LEASE_STATUSES = ("リース中", "リース最終年", "(再リース)")


class Lease(models.Model):
    """システム等のリース等の状況: one equipment lease; its yearly status lives in
    the cells of its table 4-1 row so that the schedule stays the single source."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("計画"), on_delete=models.CASCADE, related_name="leases"
    )
    name = models.CharField(_("リース名"), max_length=200)
    schedule_row = models.OneToOneField(
        ScheduleRow,
        verbose_name=_("表4-1の行"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lease",
    )
    note = models.TextField(_("備考"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("リース")
        verbose_name_plural = _("リース")
        ordering = ["plan", "schedule_row__line", "name"]
        constraints = [models.UniqueConstraint(fields=["plan", "name"], name="uniq_lease_name")]

    def __str__(self) -> str:
        return self.name

    def status_by_year(self) -> dict[int, str]:
        if self.schedule_row is None:
            return {}
        return {cell.fiscal_year: cell.text for cell in self.schedule_row.cells.all()}

    def status_for(self, fiscal_year: int) -> str:
        return self.status_by_year().get(fiscal_year, "")

    @property
    def last_lease_year(self) -> int | None:
        years = [fy for fy, status in self.status_by_year().items() if status == "リース最終年"]
        return max(years) if years else None
