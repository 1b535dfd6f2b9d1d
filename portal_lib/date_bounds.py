"""The bounds a date has from what it means: the one home of every such rule.

Forms, the Excel import, the admin and the services ask these functions; each returns a
`DateBounds` whose `check()` raises `DateOutOfBounds` with a Japanese message stating the
bounds in 和暦, so a refused date reads the same on every path.

* A progress entry is dated within its plan's period and not after today (a report is about
  what has happened).
* A review's due date lies within its fiscal year or in the first quarter of the next one
  (up to 30 June): the review of a year is written once the year's results are known, and
  the city's settlement of accounts (決算) and the next year's first HQ meeting fall in
  that quarter. Later than that, the review no longer informs the next year's work.
* A plan's (or a revision's) decision date is not after today: it records a decision made.

Framework-free like `era`: callers pass the plan (anything with ``start_fy`` / ``end_fy``)
and today's date (in a request: ``django.utils.timezone.localdate()``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from portal_lib import era
from portal_lib.era import _, gettext_noop

__all__ = [
    "REVIEW_DUE_GRACE",
    "DateBounds",
    "DateOutOfBounds",
    "check_progress_entry",
    "plan_decision",
    "progress_entry",
    "review_due",
]

# How far into the next fiscal year a review may be due: (month, day) of the next year.
REVIEW_DUE_GRACE = (6, 30)


class DateOutOfBounds(ValueError):
    """A date outside its bounds; the message is Japanese and names the bounds in 和暦."""


@dataclass(frozen=True)
class DateBounds:
    what: str  # e.g. "進捗の記録日" (a gettext_noop text, translated when shown)
    first: date | None
    last: date | None
    why: str = ""  # where the bounds come from, e.g. "計画期間(…)内で、今日より後は不可"

    def __contains__(self, d: date) -> bool:
        return (self.first is None or d >= self.first) and (self.last is None or d <= self.last)

    def describe(self) -> str:
        """The bounds in 和暦: "令和3年4月1日(木)から令和8年12月6日(日)まで"."""
        if self.first is not None and self.last is not None and self.first > self.last:
            return _("%(first)s以降(まだその日になっていません)") % {
                "first": era.format_date(self.first)
            }
        if self.first is not None and self.last is not None:
            return _("%(first)sから%(last)sまで") % {
                "first": era.format_date(self.first),
                "last": era.format_date(self.last),
            }
        if self.last is not None:
            return _("%(last)sまで") % {"last": era.format_date(self.last)}
        if self.first is not None:
            return _("%(first)s以降") % {"first": era.format_date(self.first)}
        return ""

    def message(self, d: date) -> str:
        text = _("%(what)s「%(date)s」は範囲外です。%(bounds)sの日付にしてください。") % {
            "what": _(self.what),
            "date": era.format_date(d),
            "bounds": self.describe(),
        }
        if self.why:
            text += _("(%(why)s)") % {"why": self.why}
        return text

    def check(self, d: date | None) -> date | None:
        """``d`` itself, or DateOutOfBounds. None (a date left blank) is not checked here."""
        if d is not None and d not in self:
            raise DateOutOfBounds(self.message(d))
        return d


_PROGRESS = gettext_noop("進捗の記録日")
_REVIEW_DUE = gettext_noop("提出期限")
_DECISION = gettext_noop("決定日")


_PROGRESS_WHY = gettext_noop("計画期間は%(start)sから%(end)sまで。今日より後の日付は記録できません")


def progress_entry(plan: Any, today: date) -> DateBounds:
    """Within the plan's period (1 April of its first year to 31 March after its last) and
    not after today.

    The bounds of a plan, a day and a language are built once (their text costs a dozen
    translations and era labels; 40 % of a 10,000-row import's validation before)."""
    return _progress_entry(plan.start_fy, plan.end_fy, today, _(_PROGRESS_WHY))


def check_progress_entry(plan: Any, today: date, d: date) -> date:
    """``progress_entry(plan, today).check(d)``; the bounds (their text is in the current
    language, which costs a look-up of its own) are only fetched for a date outside them.
    The model's clean() asks this for every row of an import."""
    first, last = _progress_span(plan.start_fy, plan.end_fy, today)
    if not first <= d <= last:
        progress_entry(plan, today).check(d)  # raises DateOutOfBounds with the message
    return d


@lru_cache(maxsize=128)
def _progress_span(start_fy: int, end_fy: int, today: date) -> tuple[date, date]:
    """The first and last day of `progress_entry`'s bounds: its one rule."""
    return era.fiscal_year_start(start_fy), min(era.fiscal_year_end(end_fy), today)


@lru_cache(maxsize=128)
def _progress_entry(start_fy: int, end_fy: int, today: date, why: str) -> DateBounds:
    # ``why`` is the reason's text in the current language: the language is in the key.
    first, last = _progress_span(start_fy, end_fy, today)
    return DateBounds(
        _PROGRESS,
        first,
        last,
        why
        % {
            "start": era.era_label(start_fy, short=False),
            "end": era.era_label(end_fy, short=False),
        },
    )


def review_due(fiscal_year: int) -> DateBounds:
    """From 1 April of the year reviewed to 30 June of the next (REVIEW_DUE_GRACE)."""
    month, day = REVIEW_DUE_GRACE
    return DateBounds(
        _REVIEW_DUE,
        era.fiscal_year_start(fiscal_year),
        date(fiscal_year + 1, month, day),
        _("%(fy)sの振り返りは、その年度中か翌年度の6月末までが期限です")
        % {"fy": era.era_label(fiscal_year, short=False)},
    )


def plan_decision(today: date) -> DateBounds:
    """Not after today: a decision date records a decision already made."""
    return DateBounds(_DECISION, None, today, _("決定日は今日以前の日付です"))
