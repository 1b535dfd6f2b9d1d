"""django-import-export resources for the admin, keyed by natural keys (never database ids).

The admin's import/export uses these; the secretariat screens use the faster
`reporting.exchange` engine. Both write through history (simple-history records each save,
naming the importing user) and validate with the model's own ``full_clean``
(``clean_model_instances``). Admin files go through the same safety checks, CSV decoder
(UTF-8 with or without BOM, Shift_JIS/CP932) and safe-cell writer as everything else
(`SafeXLSX` / `SafeCSV` below), not import-export's own escaping.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import tablib
from django.core.exceptions import MultipleObjectsReturned, ObjectDoesNotExist
from import_export import fields, resources, widgets
from import_export.formats import base_formats

from initiatives.models import (
    CountableTarget,
    Indicator,
    IndicatorValue,
    Initiative,
    OnlineProcedure,
    ProgressEntry,
    ProgressStatus,
    ProjectUnderWay,
    StandardSystem,
    SystemGroup,
    grade_text,
)
from initiatives.selectors import counted_actual
from plans.models import BasicPolicy
from portal_lib import era
from portal_lib.codes import parse_initiative_code
from portal_lib.history import set_history_user
from portal_lib.sheet_reading import ImportLimits, SpreadsheetError, read_upload, too_many_rows
from portal_lib.sheet_writing import FORMULA_PREFIXES, csv_bytes, stream_workbook
from portal_lib.versioning import is_versioned, version_bump
from workgroups.models import Section, WorkingGroup


def _dataset(rows: list[list[Any]]) -> tablib.Dataset:
    dataset = tablib.Dataset()
    if rows:
        width = max(len(r) for r in rows)
        dataset.headers = rows[0] + [None] * (width - len(rows[0]))
        for r in rows[1:]:
            dataset.append(r + [None] * (width - len(r)))
    return dataset


def admin_limits() -> ImportLimits:
    """The screens' limits, with at most ADMIN_IMPORT_MAX_ROWS rows: django-import-export
    validates, previews and saves row by row (tens of milliseconds a row), so a bigger
    file would outlast the worker's 60 s timeout. Bulk files go through /excel/ or `import_sheet`."""
    from django.conf import settings

    return replace(
        ImportLimits.from_settings(),
        max_rows=min(settings.ADMIN_IMPORT_MAX_ROWS, settings.IMPORT_MAX_ROWS),
    )


def admin_too_many_rows(limit: int) -> str:
    return (
        f"行数が多すぎます。管理画面から1回に取り込めるのは{limit:,}行までです。"
        "それより多い行は「Excel入出力」画面(/excel/)で取り込むか、ファイルを分けてください。"
    )


def _read(in_stream: bytes, filename: str, *, allow_csv: bool) -> list[list[Any]]:
    """Rows of an upload through the shared checks and bounded reader (one CSV decoder for
    all), with the admin's row limit; every sheet's rows, as the admin always read them."""
    limits = admin_limits()
    try:
        rows = read_upload(
            in_stream, filename, allow_csv=allow_csv, limits=limits, engine="openpyxl"
        )
        return [values for _, _, values in rows]
    except SpreadsheetError as exc:
        if exc.messages == [too_many_rows(limits.max_rows)]:
            exc = SpreadsheetError(admin_too_many_rows(limits.max_rows))
        raise ValueError(" ".join(exc.messages)) from exc


class SafeXLSX(base_formats.XLSX):
    """xlsx through the shared safe reader (size, zip bomb, entities) and safe-cell writer."""

    def create_dataset(self, in_stream: bytes) -> tablib.Dataset:
        return _dataset(_read(in_stream, "upload.xlsx", allow_csv=False))

    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> bytes:
        return stream_workbook([(dataset.title or "data", dataset.headers, dataset)])


def _unescape_csv(value: Any) -> Any:
    # csv_safe() writes formula-looking text as "'=..."; reading our own export gives it back.
    if isinstance(value, str) and value.startswith("'") and value[1:].startswith(FORMULA_PREFIXES):
        return value[1:]
    return value


class SafeCSV(base_formats.CSV):
    """CSV read as bytes by the shared reader, so UTF-8 (with or without BOM) and
    Shift_JIS/CP932 files import the same way as on /excel/; written as UTF-8 with BOM."""

    def is_binary(self) -> bool:
        return True  # the admin hands us bytes; the shared decoder picks the encoding

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream: bytes | str) -> tablib.Dataset:
        if isinstance(in_stream, str):
            in_stream = in_stream.encode("utf-8")
        rows = _read(in_stream, "upload.csv", allow_csv=True)
        return _dataset([[_unescape_csv(v) for v in row] for row in rows])

    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> str:
        return csv_bytes(dataset.headers, dataset).decode("utf-8")


ADMIN_FORMATS = [SafeXLSX, SafeCSV]


PLAN_COLUMN = "計画コード"


def _plan_code(row: Any) -> str:
    value = row.get(PLAN_COLUMN) if row else None
    return "" if value in (None, "") else str(value).strip()


class NaturalKeyWidget(widgets.ForeignKeyWidget):
    """A related row by a natural-key column, never by database id; Japanese errors.

    ``plan_lookup`` scopes the lookup to the row's 計画コード column when the file has one
    (a name or number is unique only within its plan).
    """

    def __init__(self, model: Any, field: str, *, label: str, plan_lookup: str = "") -> None:
        super().__init__(model, field=field)
        self.label = label
        self.plan_lookup = plan_lookup

    def get_queryset(self, value: Any, row: Any, *args: Any, **kwargs: Any) -> Any:
        qs = self.model._default_manager.all()
        if self.plan_lookup and _plan_code(row):
            qs = qs.filter(**{self.plan_lookup: _plan_code(row)})
        return qs

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        text = "" if value is None else str(value).strip()
        try:
            return super().clean(text or None, row, **kwargs)
        except (ObjectDoesNotExist, ValueError, TypeError):
            raise ValueError(f"「{text}」という{self.label}はありません。") from None
        except MultipleObjectsReturned:
            raise ValueError(
                f"「{text}」という{self.label}が複数の計画にあります。"
                f"「{PLAN_COLUMN}」列で計画を指定してください。"
            ) from None


class InitiativeCodeWidget(widgets.ForeignKeyWidget):
    """ "2.1" <-> the initiative (基本方針2 取り組み.1), within the row's 計画コード if given."""

    def __init__(self) -> None:
        super().__init__(Initiative)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Initiative | None:
        if value in (None, ""):
            return None
        text = str(value).strip()
        qs = Initiative.objects.select_related("policy")
        if _plan_code(row):
            qs = qs.filter(policy__plan__code=_plan_code(row))
        parsed = parse_initiative_code(text)
        try:
            if parsed is None:
                raise ValueError(text)
            return qs.get(policy__number=parsed[0], number=parsed[1])
        except (ValueError, Initiative.DoesNotExist):
            raise ValueError(f"「{text}」という番号の取り組みはありません。") from None
        except Initiative.MultipleObjectsReturned:
            raise ValueError(
                f"「{text}」という番号の取り組みが複数の計画にあります。"
                f"「{PLAN_COLUMN}」列で計画を指定してください。"
            ) from None

    def render(self, value: Initiative | None, obj: Any = None, **kwargs: Any) -> str:
        return value.code if value else ""


class IndicatorWidget(NaturalKeyWidget):
    """An indicator by its name within the row's initiative (names are unique per initiative)."""

    def __init__(self) -> None:
        super().__init__(Indicator, "name", label="指標")

    def get_queryset(self, value: Any, row: Any, *args: Any, **kwargs: Any) -> Any:
        ini = InitiativeCodeWidget().clean(row.get("取り組み番号") if row else None, row)
        return Indicator.objects.filter(initiative=ini)


class FiscalYearWidget(widgets.Widget):
    """R8 / 令和8年度 / 2026 in, R8 out."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> int | None:
        if value in (None, ""):
            return None
        try:
            return era.parse_fiscal_year(str(value).strip())
        except era.EraError as exc:
            raise ValueError(str(exc)) from None

    def render(self, value: int | None, obj: Any = None, **kwargs: Any) -> str:
        return era.era_label(value) if value else ""


class ChoiceLabelWidget(widgets.Widget):
    """Choices by their Japanese label (順調), as staff type them; the label on export."""

    def __init__(self, choices: Any) -> None:
        self.labels = dict(choices.choices)
        self.values = {str(label): value for value, label in choices.choices}

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        text = "" if value is None else str(value).strip()
        if text in self.values:
            return self.values[text]
        if text in self.labels or text == "":
            return text
        raise ValueError(f"「{text}」は選択肢にありません。")

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return str(self.labels.get(value, value or ""))


def section_field(attribute: str, header: str) -> fields.Field:
    return fields.Field(
        attribute=attribute,
        column_name=header,
        widget=NaturalKeyWidget(Section, "name", label="課"),
    )


class PortalResource(resources.ModelResource):
    """Every admin resource: the importing user in history, and the optimistic-lock version
    bumped on an update (so a portal form opened before the import reports the conflict)."""

    def before_save_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        set_history_user(instance, kwargs.get("user"))
        if instance.pk is not None and is_versioned(instance):
            version_bump(instance)


class ProgressEntryResource(PortalResource):
    initiative = fields.Field(
        attribute="initiative", column_name="取り組み番号", widget=InitiativeCodeWidget()
    )
    entry_date = fields.Field(
        attribute="entry_date", column_name="日付", widget=widgets.DateWidget()
    )
    status = fields.Field(
        attribute="status", column_name="状況", widget=ChoiceLabelWidget(ProgressStatus)
    )
    percent = fields.Field(
        attribute="percent", column_name="進捗率(%)", widget=widgets.IntegerWidget()
    )
    done_text = fields.Field(
        attribute="done_text", column_name="実施内容", widget=widgets.CharWidget()
    )
    next_steps = fields.Field(
        attribute="next_steps", column_name="次の予定", widget=widgets.CharWidget()
    )
    issues_text = fields.Field(
        attribute="issues_text", column_name="課題", widget=widgets.CharWidget()
    )

    class Meta:
        model = ProgressEntry
        import_id_fields = ("initiative", "entry_date")
        fields = (
            "initiative",
            "entry_date",
            "status",
            "percent",
            "done_text",
            "next_steps",
            "issues_text",
        )
        clean_model_instances = True
        skip_unchanged = True


class InitiativeResource(PortalResource):
    plan = fields.Field(attribute="policy__plan__code", column_name=PLAN_COLUMN, readonly=True)
    policy = fields.Field(
        attribute="policy",
        column_name="基本方針番号",
        widget=NaturalKeyWidget(
            BasicPolicy, "number", label="番号の基本方針", plan_lookup="plan__code"
        ),
    )
    number = fields.Field(
        attribute="number", column_name="取り組み番号", widget=widgets.IntegerWidget()
    )
    title = fields.Field(attribute="title", column_name="取り組み", widget=widgets.CharWidget())
    description = fields.Field(
        attribute="description", column_name="内容", widget=widgets.CharWidget()
    )
    flag = fields.Field(
        attribute="flag", column_name="区分", widget=ChoiceLabelWidget(Initiative.Flag)
    )
    working_group = fields.Field(
        attribute="working_group",
        column_name="担当WG",
        widget=NaturalKeyWidget(WorkingGroup, "name", label="WG", plan_lookup="plan__code"),
    )
    lead_section = section_field("lead_section", "主管課")
    is_public = fields.Field(
        attribute="is_public", column_name="公開", widget=widgets.BooleanWidget()
    )

    class Meta:
        model = Initiative
        import_id_fields = ("policy", "number")
        fields = (
            "plan",
            "policy",
            "number",
            "title",
            "description",
            "flag",
            "working_group",
            "lead_section",
            "is_public",
        )
        clean_model_instances = True
        skip_unchanged = True


class ProjectUnderWayResource(PortalResource):
    initiative = fields.Field(
        attribute="initiative", column_name="取り組み番号", widget=InitiativeCodeWidget()
    )
    name = fields.Field(attribute="name", column_name="事業名", widget=widgets.CharWidget())
    era_label = fields.Field(
        attribute="era_label", column_name="年(和暦)", widget=widgets.CharWidget()
    )
    fiscal_year = fields.Field(
        attribute="fiscal_year", column_name="年度", widget=FiscalYearWidget()
    )
    section = section_field("section", "担当課")
    order = fields.Field(attribute="order", column_name="表示順", widget=widgets.IntegerWidget())

    class Meta:
        model = ProjectUnderWay
        import_id_fields = ("initiative", "name")
        fields = ("initiative", "name", "era_label", "fiscal_year", "section", "order")
        clean_model_instances = True
        skip_unchanged = True


class IndicatorValueResource(PortalResource):
    initiative = fields.Field(
        attribute="indicator__initiative",
        column_name="取り組み番号",
        widget=InitiativeCodeWidget(),
        readonly=True,
    )
    indicator = fields.Field(
        attribute="indicator",
        column_name="指標名",
        widget=IndicatorWidget(),
    )
    fiscal_year = fields.Field(
        attribute="fiscal_year", column_name="年度", widget=FiscalYearWidget()
    )
    target = fields.Field(attribute="target", column_name="目標値", widget=widgets.DecimalWidget())
    actual = fields.Field(attribute="actual", column_name="実績値", widget=widgets.DecimalWidget())
    note = fields.Field(attribute="note", column_name="備考", widget=widgets.CharWidget())
    # Export only: the actual counted from a linked target's rows, and the grade it gives.
    counted = fields.Field(column_name="実績値(一覧から数えた件数)", readonly=True)
    grade = fields.Field(column_name="評価", readonly=True)

    class Meta:
        model = IndicatorValue
        import_id_fields = ("indicator", "fiscal_year")
        fields = (
            "initiative",
            "indicator",
            "fiscal_year",
            "target",
            "actual",
            "note",
            "counted",
            "grade",
        )
        clean_model_instances = True
        skip_unchanged = True

    def _with_count(self, value: IndicatorValue) -> IndicatorValue:
        target_id = value.indicator.countable_target_id
        if target_id and value.counted_actual is None:
            value.counted_actual = counted_actual(target_id, value.fiscal_year)
        return value

    def dehydrate_counted(self, value: IndicatorValue) -> Any:
        return self._with_count(value).counted_actual

    def dehydrate_grade(self, value: IndicatorValue) -> str:
        return grade_text(self._with_count(value).grade)


class OnlineProcedureResource(PortalResource):
    target = fields.Field(
        attribute="target",
        column_name="数値目標コード",
        widget=NaturalKeyWidget(CountableTarget, "code", label="コードの数値目標"),
    )
    number = fields.Field(attribute="number", column_name="番号", widget=widgets.IntegerWidget())
    name = fields.Field(attribute="name", column_name="手続名", widget=widgets.CharWidget())
    category = fields.Field(attribute="category", column_name="分野", widget=widgets.CharWidget())
    channel = fields.Field(
        attribute="channel",
        column_name="申請手段",
        widget=ChoiceLabelWidget(OnlineProcedure.Channel),
    )
    section = section_field("section", "担当課")
    status = fields.Field(
        attribute="status", column_name="状況", widget=ChoiceLabelWidget(OnlineProcedure.Status)
    )
    online_on = fields.Field(
        attribute="online_on", column_name="オンライン化日", widget=widgets.DateWidget()
    )
    note = fields.Field(attribute="note", column_name="備考", widget=widgets.CharWidget())

    class Meta:
        model = OnlineProcedure
        import_id_fields = ("target", "number")
        fields = (
            "target",
            "number",
            "name",
            "category",
            "channel",
            "section",
            "status",
            "online_on",
            "note",
        )
        clean_model_instances = True
        skip_unchanged = True


class StandardSystemResource(PortalResource):
    number = fields.Field(attribute="number", column_name="番号", widget=widgets.IntegerWidget())
    group = fields.Field(
        attribute="group",
        column_name="グループ番号",
        widget=NaturalKeyWidget(SystemGroup, "number", label="番号のグループ"),
    )
    name = fields.Field(
        attribute="name", column_name="業務・システム名", widget=widgets.CharWidget()
    )
    section = section_field("section", "主管課")
    phase = fields.Field(
        attribute="phase",
        column_name="移行フェーズ",
        widget=ChoiceLabelWidget(StandardSystem.Phase),
    )
    planned_on = fields.Field(
        attribute="planned_on", column_name="移行予定日", widget=widgets.DateWidget()
    )
    migrated_on = fields.Field(
        attribute="migrated_on", column_name="移行完了日", widget=widgets.DateWidget()
    )
    note = fields.Field(attribute="note", column_name="備考", widget=widgets.CharWidget())

    class Meta:
        model = StandardSystem
        import_id_fields = ("number",)
        fields = (
            "number",
            "group",
            "name",
            "section",
            "phase",
            "planned_on",
            "migrated_on",
            "note",
        )
        clean_model_instances = True
        skip_unchanged = True
