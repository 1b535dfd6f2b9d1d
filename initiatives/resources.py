"""django-import-export resources for the admin, keyed by natural keys (never database ids).

The admin's import/export uses these; the secretariat screens use the faster
`initiatives.bulk` engine. Both write through history (simple-history records each save).
Admin files go through the same safety checks and safe-cell writer as everything else
(`SafeXLSX` / `SafeCSV` below), not import-export's own escaping.
"""

from __future__ import annotations

from typing import Any

import tablib
from import_export import fields, resources, widgets
from import_export.formats import base_formats

from initiatives.models import (
    IndicatorValue,
    Initiative,
    OnlineProcedure,
    ProgressEntry,
    ProgressStatus,
    ProjectUnderWay,
    StandardSystem,
)
from initiatives.selectors import counted_actual
from kahoku_dx import era
from kahoku_dx.spreadsheets import (
    SpreadsheetError,
    csv_bytes,
    iter_rows,
    stream_workbook,
    validate_upload,
)
from workgroups.models import Section


class SafeXLSX(base_formats.XLSX):
    """xlsx through the shared safe reader (size, zip bomb, entities) and safe-cell writer."""

    def create_dataset(self, in_stream: bytes) -> tablib.Dataset:
        try:
            kind = validate_upload(in_stream, "upload.xlsx")
            rows = [values for _, _, values in iter_rows(in_stream, kind, engine="openpyxl")]
        except SpreadsheetError as exc:
            raise ValueError(" ".join(exc.messages)) from exc
        dataset = tablib.Dataset()
        if rows:
            width = max(len(r) for r in rows)
            dataset.headers = rows[0] + [None] * (width - len(rows[0]))
            for r in rows[1:]:
                dataset.append(r + [None] * (width - len(r)))
        return dataset

    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> bytes:
        return stream_workbook([(dataset.title or "data", dataset.headers, dataset)])


class SafeCSV(base_formats.CSV):
    def export_data(self, dataset: tablib.Dataset, **kwargs: Any) -> str:
        return csv_bytes(dataset.headers, dataset).decode("utf-8")


ADMIN_FORMATS = [SafeXLSX, SafeCSV]


class InitiativeCodeWidget(widgets.ForeignKeyWidget):
    """ "2.1" <-> the initiative (基本方針2 取り組み.1)."""

    def __init__(self) -> None:
        super().__init__(Initiative)

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Initiative | None:
        if value in (None, ""):
            return None
        text = str(value).strip()
        try:
            policy, number = (int(x) for x in text.split("."))
            return Initiative.objects.select_related("policy").get(
                policy__number=policy, number=number
            )
        except (ValueError, Initiative.DoesNotExist, Initiative.MultipleObjectsReturned):
            raise ValueError(f"「{text}」という番号の取り組みはありません。") from None

    def render(self, value: Initiative | None, obj: Any = None, **kwargs: Any) -> str:
        return value.code if value else ""


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
        widget=widgets.ForeignKeyWidget(Section, field="name"),
    )


class ProgressEntryResource(resources.ModelResource):
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


class InitiativeResource(resources.ModelResource):
    policy = fields.Field(
        attribute="policy",
        column_name="基本方針番号",
        widget=widgets.ForeignKeyWidget("plans.BasicPolicy", field="number"),
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
        widget=widgets.ForeignKeyWidget("workgroups.WorkingGroup", field="name"),
    )
    lead_section = section_field("lead_section", "主管課")
    is_public = fields.Field(
        attribute="is_public", column_name="公開", widget=widgets.BooleanWidget()
    )

    class Meta:
        model = Initiative
        import_id_fields = ("policy", "number")
        fields = (
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


class ProjectUnderWayResource(resources.ModelResource):
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


class IndicatorValueResource(resources.ModelResource):
    initiative = fields.Field(
        attribute="indicator__initiative",
        column_name="取り組み番号",
        widget=InitiativeCodeWidget(),
        readonly=True,
    )
    indicator = fields.Field(
        attribute="indicator",
        column_name="指標名",
        widget=widgets.ForeignKeyWidget("initiatives.Indicator", field="name"),
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

    def _with_count(self, value: IndicatorValue) -> IndicatorValue:
        target_id = value.indicator.countable_target_id
        if target_id and value.counted_actual is None:
            value.counted_actual = counted_actual(target_id, value.fiscal_year)
        return value

    def dehydrate_counted(self, value: IndicatorValue) -> Any:
        return self._with_count(value).counted_actual

    def dehydrate_grade(self, value: IndicatorValue) -> str:
        return self._with_count(value).grade


class OnlineProcedureResource(resources.ModelResource):
    target = fields.Field(
        attribute="target",
        column_name="数値目標コード",
        widget=widgets.ForeignKeyWidget("initiatives.CountableTarget", field="code"),
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


class StandardSystemResource(resources.ModelResource):
    number = fields.Field(attribute="number", column_name="番号", widget=widgets.IntegerWidget())
    group = fields.Field(
        attribute="group",
        column_name="グループ番号",
        widget=widgets.ForeignKeyWidget("initiatives.SystemGroup", field="number"),
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
