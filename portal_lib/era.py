"""Japanese era (和暦) and fiscal-year (年度) arithmetic for the Kahoku City DX plan portal.

This module imports nothing from Django at import time so it can be used from models, forms,
import scripts and plain unit tests alike; labels shown on screen go through `_()`, which
translates only once Django's settings are configured (English pages, see locale/).

Conventions used throughout:

* A *fiscal year* is identified by the western calendar year in which it starts: fiscal year
  2021 runs from 2021-04-01 to 2022-03-31.
* 令和 n = 2018 + n and 平成 n = 1988 + n. 令和 began on 2019-05-01, but the municipal fiscal
  year that began on 2019-04-01 is customarily labelled 令和元年度, so every fiscal year from 2019
  on is shown in 令和. The same fiscal year may still be *entered* as H31 / 平成31年度.
* Supported fiscal years are 1989 to 2200 inclusive; anything else is almost certainly a typo
  in a plan document, so it is rejected rather than silently accepted. Era numbers of up to
  three digits are read (R182 = 2200) so that every label this module formats parses back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import date as datetime_date
from functools import lru_cache

__all__ = [
    "MAX_YEAR",
    "MIN_YEAR",
    "EraError",
    "current_fiscal_year",
    "days_until_fiscal_year_end",
    "era_label",
    "format_date",
    "format_date_both",
    "fiscal_year_end",
    "fiscal_year_of",
    "fiscal_year_start",
    "fiscal_years",
    "format_fiscal_year",
    "parse_era_month",
    "parse_era_year",
    "parse_fiscal_year",
    "short_header",
]

MIN_YEAR = 1989
MAX_YEAR = 2200

REIWA_OFFSET = 2018
HEISEI_OFFSET = 1988
# 平成31年 (2019) is the last 平成 year; anything later would be a 令和 year written wrongly.
HEISEI_LAST_YEAR = 31
# 令和 is used for fiscal years from this one on (see module docstring).
REIWA_FIRST_FISCAL_YEAR = 2019
# First calendar month of 令和 (2019-05); 平成 ended with April 2019.
REIWA_FIRST_MONTH = (2019, 5)


def gettext_noop(message: str) -> str:
    """Marks a constant for makemessages; it is translated where it is used, with _()."""
    return message


_FY_HINT = gettext_noop("R3、令和3年度、2021、FY2021 のように入力してください。")
_ERA_YEAR_HINT = gettext_noop("H25、R3、令和3年度 のように和暦で入力してください。")
_ERA_MONTH_HINT = gettext_noop("令和4年2月 のように入力してください。")
DATE_HINT = gettext_noop(
    "令和8年10月1日、R8.10.1、2026/10/1、2026-10-01 のように入力してください。"
)

# Letters are matched lower-case because input is case-folded after NFKC normalisation.
_ERA_PREFIX = {"r": "令和", "令和": "令和", "h": "平成", "平成": "平成"}
_ERA_SHORT = {"令和": "R", "平成": "H"}

# Era part, e.g. "r3", "令和元", "h30年度". A trailing bare "年" is captured so that it can be
# rejected with a specific message (a calendar year is not a fiscal year).
_ERA_RE = r"(?P<era>r|h|令和|平成)\s*(?P<num>元|[0-9]{1,3})(?:\s*(?P<esuf>年度|年))?"
# Western part, e.g. "2021", "2021年度", "fy2021", "fy 2021".
_WEST_RE = r"(?:fy\s*)?(?P<west>[0-9]{4})(?:\s*(?P<wsuf>年度|年))?"

# re.ASCII keeps [0-9] / \s from matching exotic Unicode digits that NFKC leaves untouched.
_ERA_FIRST = re.compile(rf"{_ERA_RE}(?:\s*\(\s*{_WEST_RE}\s*\))?", re.ASCII)
_WEST_FIRST = re.compile(rf"{_WEST_RE}(?:\s*\(\s*{_ERA_RE}\s*\))?", re.ASCII)
_ERA_MONTH = re.compile(
    r"(?P<era>r|h|令和|平成)\s*(?P<num>元|[0-9]{1,3})\s*年\s*(?P<month>[0-9]{1,2})\s*月",
    re.ASCII,
)
# Dates: 令和8年10月1日, R8.10.1, R8/10/1, R08.10.01, H31.4.30, 2026年10月1日, 2026-10-01.
_DATE_SEP = r"\s*(?:[./\-]|年|月)\s*"
_ERA_DATE = re.compile(
    rf"(?P<era>r|h|令和|平成)\s*(?P<num>元|[0-9]{{1,3}}){_DATE_SEP}(?P<month>[0-9]{{1,2}})"
    rf"{_DATE_SEP}(?P<day>[0-9]{{1,2}})\s*日?",
    re.ASCII,
)
_WEST_DATE = re.compile(
    rf"(?P<year>[0-9]{{4}}){_DATE_SEP}(?P<month>[0-9]{{1,2}}){_DATE_SEP}(?P<day>[0-9]{{1,2}})\s*日?",
    re.ASCII,
)
HEISEI_FIRST_DAY = date(1989, 1, 8)
REIWA_FIRST_DAY = date(2019, 5, 1)
EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01 (Excel's 1900 leap-year bug included)

# Anything that names a month (e.g. "令和3年2月", "2021年4月") is a calendar month.
_MENTIONS_MONTH = re.compile(r"[0-9]\s*月", re.ASCII)


class EraError(ValueError):
    """Raised when a value cannot be read as an era year, fiscal year or era month.

    Subclasses ValueError so that callers (e.g. Django form ``clean`` methods) can catch it
    together with other conversion errors. The message is Japanese and user-facing.
    """

    # parse_date: why the date was refused ("" when the value is unreadable as a date)
    reason: str = ""
    # parse_date: a real calendar day, only outside the years the portal accepts
    date: datetime_date | None = None


# --------------------------------------------------------------------------------------------
# Internal helpers
# --------------------------------------------------------------------------------------------


def _normalise(value: str) -> str:
    """NFKC-normalise and case-fold, so "Ｒ３（２０２１）" reads the same as "r3(2021)"."""
    return unicodedata.normalize("NFKC", value).strip().lower()


def _shown(value: object) -> str:
    """The offending value as it should appear inside 「」 in an error message."""
    return value.strip() if isinstance(value, str) else str(value)


def _reason_part(reason: str) -> str:
    return _("%(reason)s。") % {"reason": reason} if reason else ""


def _fy_error(value: object, reason: str = "") -> EraError:
    return EraError(
        _("「%(value)s」は年度として解釈できません。%(reason)s%(hint)s")
        % {"value": _shown(value), "reason": _reason_part(reason), "hint": _(_FY_HINT)}
    )


def _era_year_error(value: object, reason: str = "") -> EraError:
    return EraError(
        _("「%(value)s」は和暦の年として解釈できません。%(reason)s%(hint)s")
        % {"value": _shown(value), "reason": _reason_part(reason), "hint": _(_ERA_YEAR_HINT)}
    )


def _range_reason() -> str:
    return _("対応している年度は%(min)s年度から%(max)s年度までです") % {
        "min": MIN_YEAR,
        "max": MAX_YEAR,
    }


def _in_range(year: int) -> bool:
    return MIN_YEAR <= year <= MAX_YEAR


class _Rejected(Exception):
    """Internal: a year label was rejected; ``reason`` is "" or a short Japanese sentence."""

    def __init__(self, reason: str = "", *, calendar_year: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.calendar_year = calendar_year


def _era_to_year(era: str, num: str) -> int:
    """Western year for an era year; raises _Rejected if that era year never existed."""
    n = 1 if num == "元" else int(num)
    if n < 1:
        # Year 0 ("R0", "H00"): nothing more useful to say than the generic hint.
        raise _Rejected()
    if era == "平成":
        if n > HEISEI_LAST_YEAR:
            raise _Rejected(
                _("平成は%(last)s年までです。それ以降は令和で入力してください")
                % {"last": HEISEI_LAST_YEAR}
            )
        return HEISEI_OFFSET + n
    return REIWA_OFFSET + n


_gettext: Callable[[str], str] | None = None  # Django's gettext, once settings are configured


def _(message: str) -> str:
    """Django's gettext when settings are configured, else the Japanese source text."""
    if _gettext is not None:  # every call after the first with settings configured
        return _gettext(message)
    return _first_gettext(message)


def _first_gettext(message: str) -> str:
    global _gettext
    try:
        from django.conf import settings
    except ImportError:  # pragma: no cover - Django is always installed for the portal
        return message
    if not settings.configured:
        return message
    from django.utils.translation import gettext

    _gettext = gettext
    return gettext(message)


def _language() -> str | None:
    """The active language once Django's settings are configured (else None: the source)."""
    try:
        from django.conf import settings
    except ImportError:  # pragma: no cover - Django is always installed for the portal
        return None
    if not settings.configured:
        return None
    from django.utils.translation import get_language

    return get_language()


def _weekday(d: date) -> str:
    """The day of the week, one character: 月 … 日 (English: Mon … Sun)."""
    message = _WEEKDAYS[d.weekday()]
    try:
        from django.conf import settings
    except ImportError:  # pragma: no cover - Django is always installed for the portal
        return message
    if not settings.configured:
        return message
    from django.utils.translation import pgettext

    return pgettext("weekday", message)


def _era_number_text(n: int) -> str:
    return _("元") if n == 1 else str(n)


def _era_of_fiscal_year(fy: int) -> tuple[str, int]:
    if fy >= REIWA_FIRST_FISCAL_YEAR:
        return "令和", fy - REIWA_OFFSET
    return "平成", fy - HEISEI_OFFSET


def _check_fiscal_year(fy: object) -> int:
    """Validate an already-numeric fiscal year passed by code (not by a user)."""
    # bool is a subclass of int; True would otherwise pass as fiscal year 1.
    if isinstance(fy, bool) or not isinstance(fy, int):
        raise EraError(f"「{fy!r}」は年度として使えません。西暦の整数で指定してください。")
    if not _in_range(fy):
        raise EraError(
            f"「{fy}」は対応範囲外の年度です。"
            f"{MIN_YEAR}年度から{MAX_YEAR}年度までを指定してください。"
        )
    return fy


def _as_date(d: date) -> date:
    # datetime is a subclass of date but cannot be subtracted from a plain date.
    return d.date() if isinstance(d, datetime) else d


def _parse_year_label(text: str, *, era_required: bool, allow_calendar_year: bool) -> int:
    """Parse a normalised year label shared by parse_fiscal_year and parse_era_year.

    Raises _Rejected so that each public function can word the message for its own context.
    """
    m = _ERA_FIRST.fullmatch(text)
    if m is None and not era_required:
        m = _WEST_FIRST.fullmatch(text)
    if m is None:
        raise _Rejected()
    groups = m.groupdict()
    if not allow_calendar_year and "年" in (groups["esuf"], groups["wsuf"]):
        raise _Rejected(calendar_year=True)

    era_year: int | None = None
    if groups["era"] is not None:
        era_year = _era_to_year(_ERA_PREFIX[groups["era"]], groups["num"])

    west_year = int(groups["west"]) if groups["west"] is not None else None
    if era_year is not None and west_year is not None and era_year != west_year:
        era_text = text[m.start("era") : m.end("num")].upper()
        raise _Rejected(
            _("%(era)sは%(era_year)s年度ですが、%(west_year)s年度と併記されています")
            % {"era": era_text, "era_year": era_year, "west_year": west_year}
        )

    year = era_year if era_year is not None else west_year
    # The grammar guarantees at least one part; the check keeps type checkers honest.
    if year is None:
        raise _Rejected()
    if not _in_range(year):
        raise _Rejected(_range_reason())
    return year


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------


def parse_fiscal_year(value: str | int) -> int:
    """Read a fiscal year as typed by staff or found in a plan document.

    Accepts era forms ("R3", "R03", "令和3年度", "令和元", "H30", "平成30年度"), western forms
    ("2021", "2021年度", "FY2021", "FY 2021") and both together ("R3 (2021)",
    "令和3年度 (2021年度)"), in half- or full-width and any letter case, as well as a plain int.
    When both an era and a western year are given they must agree, because a mismatch means
    one of them is a typo and we cannot tell which.

    A calendar month ("令和3年2月") or calendar year ("令和3年") is rejected instead of being
    rounded to a fiscal year: January to March belong to the *previous* fiscal year, so
    guessing would be wrong a quarter of the time.

    Returns the western fiscal year, e.g. 2021. Raises EraError for anything else.
    """
    if isinstance(value, bool):
        raise _fy_error(value, _("真偽値は年度として使えません"))
    if isinstance(value, int):
        if not _in_range(value):
            raise _fy_error(value, _range_reason())
        return value
    if not isinstance(value, str):
        raise _fy_error(value)

    text = _normalise(value)
    if not text:
        raise EraError(_("年度が入力されていません。%(hint)s") % {"hint": _(_FY_HINT)})
    if _MENTIONS_MONTH.search(text):
        raise EraError(
            _("「%(value)s」は年月を表しており、年度ではありません。年度は%(hint)s")
            % {"value": _shown(value), "hint": _(_FY_HINT)}
        )

    try:
        return _parse_year_label(text, era_required=False, allow_calendar_year=False)
    except _Rejected as exc:
        if exc.calendar_year:
            raise EraError(
                _("「%(value)s」は暦年を表しており、年度ではありません。年度は%(hint)s")
                % {"value": _shown(value), "hint": _(_FY_HINT)}
            ) from None
        raise _fy_error(value, exc.reason) from None


def parse_era_year(value: str) -> int:
    """Convert an era year label such as "H25", "R03", "R2" or "平成25年度" to a western year.

    Used for the "projects already under way" column, whose labels are fiscal years written
    in era form, so the number returned is the fiscal year (H25 -> 2013). Unlike
    parse_fiscal_year a bare western year ("2013") is rejected: the column is expected to be
    in 和暦, and a western number there usually means the wrong column was mapped. A trailing
    "年" ("平成25年") is accepted because the conversion of the number is identical.
    """
    if not isinstance(value, str):
        raise _era_year_error(value)
    text = _normalise(value)
    if not text:
        raise EraError(_("和暦の年が入力されていません。%(hint)s") % {"hint": _(_ERA_YEAR_HINT)})
    try:
        return _parse_year_label(text, era_required=True, allow_calendar_year=True)
    except _Rejected as exc:
        raise _era_year_error(value, exc.reason) from None


def parse_era_month(value: str) -> tuple[int, int]:
    """Convert an era calendar month such as "令和4年2月" to (2022, 2).

    The era must actually have been in force in that month: 令和 starts in May 2019, so
    "令和元年4月" is rejected, and 平成 ends in April 2019, so "平成31年5月" is rejected.
    (平成元年1月 is accepted although 平成 began on 8 January 1989; month precision cannot
    express that.)
    """

    def error(reason: str = "") -> EraError:
        return EraError(
            _("「%(value)s」は年月として解釈できません。%(reason)s%(hint)s")
            % {"value": _shown(value), "reason": _reason_part(reason), "hint": _(_ERA_MONTH_HINT)}
        )

    if not isinstance(value, str):
        raise error()
    text = _normalise(value)
    if not text:
        raise EraError(_("年月が入力されていません。%(hint)s") % {"hint": _(_ERA_MONTH_HINT)})
    m = _ERA_MONTH.fullmatch(text)
    if m is None:
        raise error()
    era = _ERA_PREFIX[m.group("era")]
    try:
        year = _era_to_year(era, m.group("num"))
    except _Rejected as exc:
        raise error(exc.reason) from None
    month = int(m.group("month"))
    if not 1 <= month <= 12:
        raise error(_("月は1から12で指定してください"))
    if era == "令和" and (year, month) < REIWA_FIRST_MONTH:
        raise error(_("令和は2019年5月からです"))
    if era == "平成" and (year, month) >= REIWA_FIRST_MONTH:
        raise error(_("平成は31年4月までです"))
    return year, month


def parse_date(value: str) -> date:
    """A date as people type it: "令和8年10月1日", "R8.10.1", "R8/10/1", "R08.10.01",
    "令和元年5月1日", "H31.4.30", "2026年10月1日", "2026/10/1", "2026-10-01", with full-width
    digits and letters read as half-width.

    The era must have been in force on that day (令和 from 2019-05-01, 平成 from 1989-01-08 to
    2019-04-30). Raises EraError with a Japanese message naming the value.
    """

    def error(reason: str = "") -> EraError:
        reason_part = f"{reason}。" if reason else ""
        exc = EraError(f"「{_shown(value)}」は日付として解釈できません。{reason_part}{DATE_HINT}")
        exc.reason = reason
        return exc

    if not isinstance(value, str):
        raise error()
    text = _normalise(value)
    era = None
    m = _ERA_DATE.fullmatch(text)
    if m is not None:
        era = _ERA_PREFIX[m.group("era")]
        try:
            year = _era_to_year(era, m.group("num"))
        except _Rejected as exc:
            raise error(exc.reason) from None
    else:
        m = _WEST_DATE.fullmatch(text)
        if m is None:
            raise error()
        year = int(m.group("year"))
    try:
        d = date(year, int(m.group("month")), int(m.group("day")))
    except ValueError:
        raise error("その日付はありません") from None
    if not _in_range(d.year):
        far_off = error(f"{MIN_YEAR}年から{MAX_YEAR}年までの日付を入力してください")
        # A real calendar day, only far off: a caller with bounds (portal_lib.date_bounds)
        # refuses it with those bounds instead.
        far_off.date = d
        raise far_off
    if era == "令和" and d < REIWA_FIRST_DAY:
        raise error("令和は2019年5月1日からです")
    if era == "平成" and not HEISEI_FIRST_DAY <= d < REIWA_FIRST_DAY:
        raise error("平成は1989年1月8日から2019年4月30日までです")
    return d


def date_from_excel_serial(serial: float) -> date:
    """The date of an Excel serial number (a date typed into a cell formatted as a number)."""
    if isinstance(serial, bool) or not isinstance(serial, int | float) or serial != serial:
        raise EraError(f"「{serial}」は日付として解釈できません。{DATE_HINT}")
    days = int(serial)
    try:
        d = EXCEL_EPOCH + timedelta(days=days)
    except OverflowError:
        d = None
    if d is None or days < 1 or not _in_range(d.year):
        raise EraError(f"「{_shown(serial)}」は日付として解釈できません。{DATE_HINT}")
    return d


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


def era_label(fy: int, *, short: bool = True) -> str:
    """Era label of a fiscal year: "R3" / "H30" (short) or "令和3年度" / "令和元年度" (long).

    The short form never uses 元 (FY2019 is "R1") because it is used in compact table headers.
    """
    _check_fiscal_year(fy)
    era, n = _era_of_fiscal_year(fy)
    if short:
        return f"{_ERA_SHORT[era]}{n}"
    number = _era_number_text(n)
    if era == "令和":
        return _("令和%(number)s年度") % {"number": number}
    return _("平成%(number)s年度") % {"number": number}


def format_fiscal_year(fy: int) -> str:
    """Full display form, e.g. "令和3年度 (2021年度)" or "令和元年度 (2019年度)"."""
    return _("%(era_year)s (%(year)s年度)") % {"era_year": era_label(fy, short=False), "year": fy}


def short_header(fy: int) -> str:
    """Compact form used as column header in table 4-1, e.g. "R3 (2021)"."""
    return f"{era_label(fy)} ({fy})"


def pgettext_noop(context: str, message: str) -> str:
    """Marks a message with its context for translation (tests/project/test_i18n.py reads it)."""
    return message


# Monday first, as date.weekday() counts; translated with the context "weekday" (_weekday).
_WEEKDAYS = (
    pgettext_noop("weekday", "月"),
    pgettext_noop("weekday", "火"),
    pgettext_noop("weekday", "水"),
    pgettext_noop("weekday", "木"),
    pgettext_noop("weekday", "金"),
    pgettext_noop("weekday", "土"),
    pgettext_noop("weekday", "日"),
)


def format_date(d: date, *, weekday: bool = True) -> str:
    """A date as the city writes it: "令和8年11月2日(月)", "令和元年5月1日(水)", "平成31年4月30日(火)".

    The era in force on that day (令和 from 2019-05-01, 平成 from 1989-01-08). A date outside
    the supported years (a typo such as 0002-08-11 already saved) is shown as ISO with its
    four-digit year, so that it is recognisable rather than silently shortened.
    """
    return _format_date(_as_date(d), weekday, _language())


@lru_cache(maxsize=4096)
def _format_date(d: date, weekday: bool, language: str | None) -> str:
    """format_date, once per day, form and language (``language``: the key only; a page or
    an export shows the same few hundred days many times)."""
    if d >= REIWA_FIRST_DAY:
        era, n = "令和", d.year - REIWA_OFFSET
    elif d >= HEISEI_FIRST_DAY:
        era, n = "平成", d.year - HEISEI_OFFSET
    else:
        era, n = "", 0
    if not era or not _in_range(d.year):
        text = d.isoformat()
    else:
        values = {"number": _era_number_text(n), "month": d.month, "day": d.day}
        if era == "令和":
            text = _("令和%(number)s年%(month)s月%(day)s日") % values
        else:
            text = _("平成%(number)s年%(month)s月%(day)s日") % values
    if weekday:
        text += _("(%(weekday)s)") % {"weekday": _weekday(d)}
    return text


def format_date_both(d: date) -> str:
    """和暦 with 西暦 where space allows: "令和8年11月2日(月)(2026年)"."""
    d = _as_date(d)
    if not _in_range(d.year) or d < HEISEI_FIRST_DAY:
        return format_date(d)
    return _("%(date)s(%(year)s年)") % {"date": format_date(d), "year": d.year}


def format_era_month(year: int, month: int) -> str:
    """Calendar month in era form, e.g. (2022, 2) -> "令和4年2月" (the plan's own dating)."""
    if not 1 <= month <= 12:
        raise EraError(f"月は1から12で指定してください(「{month}」)。")
    if (year, month) >= REIWA_FIRST_MONTH:
        era, n = "令和", year - REIWA_OFFSET
    else:
        era, n = "平成", year - HEISEI_OFFSET
    if not _in_range(year) or n < 1:
        raise EraError(f"「{year}年{month}月」は対応していない年です。")
    values = {"number": _era_number_text(n), "month": month}
    if era == "令和":
        return _("令和%(number)s年%(month)s月") % values
    return _("平成%(number)s年%(month)s月") % values


# --------------------------------------------------------------------------------------------
# Date arithmetic
# --------------------------------------------------------------------------------------------


def fiscal_year_of(d: date) -> int:
    """Fiscal year containing ``d``: 2022-03-31 -> 2021, 2022-04-01 -> 2022.

    Pure date arithmetic, so no range check. A datetime is reduced to its own date as-is;
    convert aware datetimes to Asia/Tokyo first, or the fiscal year can be off near midnight
    on 1 April.
    """
    d = _as_date(d)
    return d.year if d.month >= 4 else d.year - 1


def fiscal_year_start(fy: int) -> date:
    """1 April of ``fy``."""
    return date(_check_fiscal_year(fy), 4, 1)


def fiscal_year_end(fy: int) -> date:
    """31 March of ``fy + 1`` (fiscal_year_end(2022) == date(2023, 3, 31))."""
    return date(_check_fiscal_year(fy) + 1, 3, 31)


def current_fiscal_year(today: date | None = None) -> int:
    """Fiscal year of ``today`` (defaults to ``date.today()``).

    ``date.today()`` uses the server process's local time zone, which is often UTC in
    containers; between 00:00 and 09:00 JST on 1 April that is still 31 March. Callers in a
    request context should therefore pass the Asia/Tokyo local date explicitly (in Django:
    ``django.utils.timezone.localdate()`` with TIME_ZONE = "Asia/Tokyo").
    """
    return fiscal_year_of(today if today is not None else date.today())


def days_until_fiscal_year_end(fy: int, today: date) -> int:
    """Days from ``today`` to the last day of ``fy``: 0 on 31 March, negative once passed."""
    return (fiscal_year_end(fy) - _as_date(today)).days


def fiscal_years(start: int, end: int) -> list[int]:
    """All fiscal years from ``start`` to ``end`` inclusive.

    A reversed range raises instead of returning [] because it always indicates swapped
    plan-period fields, which would otherwise render as an empty table.
    """
    _check_fiscal_year(start)
    _check_fiscal_year(end)
    if start > end:
        raise EraError(f"開始年度 {start} が終了年度 {end} より後になっています。")
    return list(range(start, end + 1))
