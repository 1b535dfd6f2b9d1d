"""The meeting report's workbook: a report to print (issue 14), every cell through set_cell,
real numbers and dates, in the requester's language."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from io import BytesIO
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from initiatives.models import UNGRADED, Grade
from initiatives.selectors import FIGURE_PERCENT, rollup_figure, rollup_figure_kind
from portal_lib import era
from portal_lib import xlsx_layout as xl
from portal_lib.sheet_writing import set_cell
from reporting.models import ReportSnapshot
from reporting.selectors.meeting_reports import snapshot_view_data

TITLE_ROWS = 4  # title, plan and year, 基準日, blank; the table header is on row 5


def _percent(value: Any) -> float | None:
    """A percentage saved as "53.3" or 40 -> 0.533 / 0.4 for a % number format."""
    if value is None or value == "":
        return None
    return float(Decimal(str(value)) / 100)


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _amount(value: str | None) -> float | int | None:
    if value is None or value == "":
        return None
    number = Decimal(value)
    return int(number) if number == number.to_integral() else float(number)


def _title_block(ws: Any, snapshot: ReportSnapshot, data: dict[str, Any], heading: str) -> None:
    set_cell(ws, 1, 1, f"{snapshot.title} {heading}")
    ws.cell(row=1, column=1).font = Font(bold=True, size=14)
    fiscal_year = data.get("fiscal_year")
    year = era.format_fiscal_year(fiscal_year) if fiscal_year else data["fiscal_year_label"]
    set_cell(ws, 2, 1, f"{data['plan']['name']} {year}")
    set_cell(ws, 3, 1, _("基準日"))
    cell = set_cell(ws, 3, 2, _day(data["taken_on"]))
    cell.number_format = xl.WAREKI_DATE_FORMAT
    if snapshot.document_number:  # 「資料2」 at the top right of every printed page
        right = ws.oddHeader.right
        right.text, right.size, right.font = snapshot.document_number, 14, "-,Bold"


def _merge_title(ws: Any) -> None:
    last = get_column_letter(max(ws.max_column, 2))
    for row in (1, 2):
        ws.merge_cells(f"A{row}:{last}{row}")


def _table(ws: Any, rows: list[list[Any]]) -> None:
    for r, values in enumerate(rows, start=TITLE_ROWS + 1):
        for c, value in enumerate(values, start=1):
            set_cell(ws, r, c, value)


def _grade_counts(row: dict[str, Any]) -> list[Any]:
    counts = {key: n for key, _, n in row.get("grades", [])}
    return [counts.get(key) for key in (*Grade.values, UNGRADED)]


def _grade_text(ind: dict[str, Any]) -> str:
    """A stored grade as initiatives.models.grade_text shows one: the label for D and 未評価."""
    # The label is stored in Japanese with the snapshot; it is written in the reader's language.
    return _(ind["grade_label"]) if ind["grade"] in (Grade.D, UNGRADED) else ind["grade"]


def _rollup_cells(row: dict[str, Any]) -> list[Any]:
    """進捗率 / 備考 / 報告 / 取り組み / 未報告: the percentage is a number or nothing; what
    the screens show in its place (「未報告」 when nobody reported, never 0 %; "—") is in the
    備考 column beside it."""
    # The figure by the one rule (initiatives.selectors.rollup_figure_kind).
    if rollup_figure_kind(row) == FIGURE_PERCENT:
        figure: list[Any] = [_percent(row.get("percent")), None]
    else:
        figure = [None, rollup_figure(row)]
    return [*figure, row.get("reported"), row.get("total"), row.get("unreported")]


DATE_WIDTH = xl.text_width("令和00年00月00日") + 2  # a 和暦 date cell that never prints ###


def _date_span(ws: Any, row: int, column: int) -> None:
    """Merge a date cell rightwards until it is wide enough for a 和暦 date."""

    def width_of(col: int) -> float:
        return float(ws.column_dimensions[get_column_letter(col)].width or 8.43)

    last, width = column, width_of(column)
    while width < DATE_WIDTH and last < max(ws.max_column, column + 3):
        last += 1
        width += width_of(last)
    if last > column:
        ws.merge_cells(start_row=row, start_column=column, end_row=row, end_column=last)
    ws.cell(row=row, column=column).alignment = Alignment(horizontal="left")


def _block(ws: Any, top: int, rows: list[list[Any]], *, header_rows: tuple[int, ...]) -> int:
    """A small bordered table below the main one: its label rows styled as a header, every
    other cell wrapped and top-aligned; returns the row after it."""
    for offset, values in enumerate(rows):
        for column, value in enumerate(values, start=1):
            set_cell(ws, top + offset, column, value)
        if offset in header_rows:
            xl.style_header(ws, row=top + offset, last_column=len(values))
        else:
            for column in range(1, len(values) + 1):
                cell = ws.cell(row=top + offset, column=column)
                cell.border, cell.alignment = xl.BORDER, xl.WRAP_TOP
    return top + len(rows)


def _text_rows(ws: Any, top: int, rows: list[tuple[str, str]], last_column: int) -> int:
    """Label | text merged over the rest of the table's width, wrapped (row heights are fitted
    once the widths are known); returns the row after them."""
    for offset, (label, text) in enumerate(rows):
        r = top + offset
        set_cell(ws, r, 1, label)
        set_cell(ws, r, 2, text)
        for column in range(1, last_column + 1):
            cell = ws.cell(row=r, column=column)
            cell.border, cell.alignment = xl.BORDER, xl.WRAP_TOP
        ws.cell(row=r, column=1).font = xl.HEADER_FONT
        ws.merge_cells(start_row=r, start_column=2, end_row=r, end_column=last_column)
    return top + len(rows)


def _summary_sheet(ws: Any, snapshot: ReportSnapshot, data: dict[str, Any]) -> None:
    """概要: the groups' table, then the two countable targets, the reviews (how many in each
    state, those waiting for headquarters, the self grades) and the rules, each figure in a
    cell of its own under its label, on A4 landscape."""
    _title_block(ws, snapshot, data, _("概要"))
    header = [
        *(_("区分"), _("進捗率"), _("備考"), _("報告"), _("取り組み"), _("未報告")),
        *("A", "B", "C", "D", _("未評価")),
    ]
    width = len(header)
    rows: list[list[Any]] = [header]
    overall = {**data["overall"], "grades": data["grades"]}
    rows.append([_("計画全体"), *_rollup_cells(overall), *_grade_counts(overall)])
    for g in data["policies"] + data["working_groups"]:
        rows.append([g["label"], *_rollup_cells(g), *_grade_counts(g)])
    _table(ws, rows)
    xl.layout_table(
        ws,
        header_row=TITLE_ROWS + 1,
        landscape=True,
        title=snapshot.title,
        number_formats={2: xl.PERCENT_1DP_FORMAT},
    )

    online, systems = data["online"], data["systems"]
    sep = pgettext("punctuation", "、")
    top = TITLE_ROWS + len(rows) + 2
    top = _block(
        ws,
        top,
        [
            [_("数値目標"), _("完了"), _("目標・対象"), _("登録"), _("確認済み"), _("期限超過")],
            [
                _("オンライン化済の手続"),
                online["online"],
                online["target"],
                online["registered"],
                online["confirmed"],
                online["overdue"],
            ],
            [
                _("標準化システム移行完了"),
                systems["done"],
                systems["total"],
                systems["total"],
                systems["confirmed"],
                len(systems["overdue"]),
            ],
        ],
        header_rows=(0,),
    )
    top = _text_rows(
        ws,
        top,
        [
            (_("期限後移行"), sep.join(systems["late"]) or _("なし")),
            (_("移行困難システム"), sep.join(systems["difficult"]) or _("なし")),
        ],
        width,
    )

    counts = data["review_counts"]
    top = _block(
        ws,
        top + 1,
        [
            [_("PDCA振り返り"), *(_(c["label"]) for c in counts)],
            [_("件数"), *(c["count"] for c in counts)],
        ],
        header_rows=(0,),
    )
    waiting = data["approvals_waiting"]
    if waiting is not None:
        top = _block(ws, top, [[_("推進本部の承認待ち"), len(waiting)]], header_rows=())
        ws.cell(row=top - 1, column=1).font = xl.HEADER_FONT
        if waiting:
            top = _text_rows(ws, top, [(_("承認待ちの取り組み"), "\n".join(waiting))], width)
    if data["self_grades"]:
        grades = data["self_grades"]
        top = _block(
            ws,
            top + 1,
            [
                [_("自己評価(提出・確認・承認済)"), *(g for g, _n in grades)],
                [_("件数"), *(n for _g, n in grades)],
            ],
            header_rows=(0,),
        )
    _text_rows(
        ws,
        top + 1,
        [
            (_("集計方法"), _(data["rollup_rule"]) if data["rollup_rule"] else ""),
            (_("指標の評価"), _(data["grade_rule"]) if data["grade_rule"] else ""),
        ],
        width,
    )
    # Widths from every label and figure (merged texts wrap in their span instead).
    xl.fit_columns(ws, header_row=TITLE_ROWS + 1)
    _merge_title(ws)
    _date_span(ws, 3, 2)
    xl.fit_row_heights(ws, first_row=1)
    # The summary is one sheet of paper: its rows are bounded by the plan's policies and WGs,
    # so fitting its height to one page only scales it a little.
    ws.page_setup.fitToHeight = 1


def snapshot_workbook(snapshot: ReportSnapshot) -> bytes:
    """The report as a workbook in the requester's language: headings through gettext, the
    labels the snapshot stored (in Japanese) translated as they are written."""
    data = snapshot_view_data(snapshot.data)
    wb = Workbook()
    ws = wb.active
    ws.title = _("概要")
    _summary_sheet(ws, snapshot, data)

    ws2 = wb.create_sheet(_("取り組み別"))
    _title_block(ws2, snapshot, data, _("取り組み別"))
    header2 = [
        _("番号"),
        _("取り組み"),
        _("担当WG"),
        _("状況"),
        _("進捗率"),
        _("最終記録日"),
        _("報告"),
        _("振り返り"),
        _("自己評価"),
        _("方針"),
        _("指標の評価"),
        _("評価(Check)"),
    ]
    rows2: list[list[Any]] = [header2]
    for i in data["initiatives"]:
        grades = "\n".join(f"{ind['name']}: {_grade_text(ind)}" for ind in i["indicators"])
        rows2.append(
            [
                i["code"],
                i["title"],
                i["working_group"],
                _(i["status_label"]),
                _percent(i["percent"]),
                _day(i["latest_date"]),
                _("報告済") if i["reported"] else _("未報告"),
                _(i["review_state_label"]),
                i["self_grade"] or None,
                _(i["carry_over"]) if i["carry_over"] else "",
                grades or _("指標なし"),
                i["check_text"],
            ]
        )
    _table(ws2, rows2)
    xl.layout_table(
        ws2,
        header_row=TITLE_ROWS + 1,
        landscape=True,
        title=snapshot.title,
        fixed_widths={2: 36, 11: 30, 12: 40},
        number_formats={5: xl.PERCENT_FORMAT, 6: xl.WAREKI_DATE_FORMAT},
    )
    _merge_title(ws2)
    xl.fit_row_heights(ws2, first_row=1)

    ws3 = wb.create_sheet(_("指標"))
    _title_block(ws3, snapshot, data, _("指標の評価"))
    rows3: list[list[Any]] = [
        [_("番号"), _("取り組み"), _("指標"), _("単位"), _("目標"), _("実績"), _("評価"), _("備考")]
    ]
    for i in data["initiatives"]:
        for ind in i["indicators"]:
            note = (
                _("手入力の実績 %(actual)s と不一致") % {"actual": ind["typed_actual"]}
                if ind.get("typed_actual")
                else ""
            )
            rows3.append(
                [
                    i["code"],
                    i["title"],
                    ind["name"],
                    ind["unit"],
                    _amount(ind["target"]),
                    _amount(ind["actual"]),
                    _(ind["grade_label"]),
                    note,
                ]
            )
    _table(ws3, rows3)
    xl.layout_table(
        ws3, header_row=TITLE_ROWS + 1, landscape=True, title=snapshot.title, fixed_widths={2: 36}
    )
    if data["grade_rule"]:  # the rule beside the grades (as on the report page)
        set_cell(ws3, TITLE_ROWS + len(rows3) + 2, 1, f"評価の基準:{data['grade_rule']}")
    _merge_title(ws3)
    xl.fit_row_heights(ws3, first_row=1)

    ws4 = wb.create_sheet(_("PDCA振り返り"))
    _title_block(ws4, snapshot, data, _("PDCA振り返り"))
    rows4: list[list[Any]] = [
        [_("番号"), _("取り組み"), _("状態"), _("Plan(計画)"), _("Do(実行)")]
        + [_("Check(評価)"), _("Act(改善)"), _("自己評価")]
    ]
    for i in data["initiatives"]:
        review = i["review"]
        if not review:
            continue
        state = _(review["state_label"])
        if review.get("approved_version"):
            state = _("%(state)s(承認時の内容)") % {"state": state}
        rows4.append(
            [
                i["code"],
                i["title"],
                state,
                review["plan_text"],
                review["do_text"],
                review["check_text"],
                review["act_text"],
                review.get("self_grade") or None,
            ]
        )
    _table(ws4, rows4)
    xl.layout_table(
        ws4,
        header_row=TITLE_ROWS + 1,
        landscape=True,
        title=snapshot.title,
        fixed_widths={2: 28, 4: 40, 5: 40, 6: 40, 7: 40},
    )
    _merge_title(ws4)
    xl.fit_row_heights(ws4, first_row=1)

    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
