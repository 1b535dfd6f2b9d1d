"""Who may read and write what in the initiatives app (domain.md §6).

Reads are open to every logged-in member of staff, so a missing object is the only
"outside scope" case (404). Writes are decided here and enforced again in services.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.http import Http404

from initiatives import workflow
from initiatives.models import (
    CountableTarget,
    Indicator,
    Initiative,
    OnlineProcedure,
    ProgressEntry,
    Review,
    StandardSystem,
)
from initiatives.selectors import initiative_detail
from initiatives.workflow import BY_HEADQUARTERS, BY_MANAGER, BY_SECRETARIAT, Move
from plans.models import BasicPolicy
from workgroups.access import Roles, roles_for

if TYPE_CHECKING:
    from portal_lib.users import RequestUser

# --- predicates (used by views *and* services) ---------------------------------------------


def can_log_progress(roles: Roles, initiative: Initiative) -> bool:
    """WG members (and leaders) log progress on their WG's initiatives; the secretariat on all."""
    return roles.can_edit_wg(initiative.working_group_id)


def can_manage_initiative(roles: Roles, initiative: Initiative) -> bool:
    """Indicators, targets and the PDCA review: the WG leader and the secretariat."""
    return roles.secretariat or roles.leads_wg(initiative.working_group_id)


def can_run_review_round(roles: Roles) -> bool:
    """Opening the year's PDCA reviews and setting their due dates: the secretariat."""
    return roles.secretariat


def can_edit_countable(roles: Roles, target: CountableTarget) -> bool:
    """Online procedures / standard systems: the secretariat and the target's WG."""
    return roles.can_edit_wg(target.working_group_id)


def can_confirm_countable(roles: Roles) -> bool:
    """Confirming where a procedure or system stands (the 確認 button, the Excel column): the
    secretariat, whose figures the checklist, lists, dashboard and API report."""
    return roles.secretariat


# The role keys of the review transition table (workflow.MOVES) a user holds over every
# review, whatever its WG; the homes list what waits for them (selectors.home_for_user).
OVERSIGHT_ROLES: dict[str, Callable[[Roles], bool]] = {
    BY_SECRETARIAT: lambda roles: roles.secretariat,
    BY_HEADQUARTERS: lambda roles: roles.headquarters,
}

# What each role key of the review transition table (workflow.MOVES) means for a user.
MOVE_ROLES: dict[str, Callable[[Roles, Review], bool]] = {
    BY_MANAGER: lambda roles, review: can_manage_initiative(roles, review.initiative),
    BY_SECRETARIAT: lambda roles, review: OVERSIGHT_ROLES[BY_SECRETARIAT](roles),
    BY_HEADQUARTERS: lambda roles, review: OVERSIGHT_ROLES[BY_HEADQUARTERS](roles),
}


def oversight_keys(roles: Roles) -> tuple[str, ...]:
    """The role keys (workflow.BY_*) this user holds over every review."""
    return tuple(key for key, holds in OVERSIGHT_ROLES.items() if holds(roles))


def may_make_move(roles: Roles, review: Review, move: Move) -> bool:
    """Whether the user has the role the move needs (the state is checked separately)."""
    return MOVE_ROLES[move.by](roles, review)


def review_moves_for(roles: Roles, review: Review) -> list[Move]:
    """The moves this user may make now, in the table's order (the page's buttons)."""
    return [
        m for m in workflow.MOVES if review.state in m.sources and may_make_move(roles, review, m)
    ]


# --- object getters: (obj, can_edit) -------------------------------------------------------


def get_initiative_for_user(
    user: RequestUser, pk: int, *, detail_year: int | None = None
) -> tuple[Initiative, bool]:
    """The initiative and whether the user may log progress on it.

    ``detail_year`` reads everything the initiative page shows, with the latest progress of
    that fiscal year (selectors.initiative_detail).
    """
    ini: Initiative | None  # with the year's latest progress annotated when detail_year
    if detail_year is not None:
        ini = initiative_detail(pk, detail_year)
    else:
        ini = Initiative.objects.with_relations().filter(pk=pk).first()
    if ini is None:
        raise Http404("取り組みが見つかりません。")
    return ini, can_log_progress(roles_for(user), ini)


def get_progress_entry_for_user(
    user: RequestUser, initiative_pk: int, pk: int
) -> tuple[ProgressEntry, bool]:
    entry = (
        ProgressEntry.objects.select_related(
            "initiative",
            "initiative__policy__plan",  # the date's bounds (ProgressEntry.entry_date_bounds)
            "initiative__working_group",
            "author",
        )
        .filter(pk=pk, initiative_id=initiative_pk)
        .first()
    )
    if entry is None:
        raise Http404("進捗記録が見つかりません。")
    return entry, can_log_progress(roles_for(user), entry.initiative)


def get_indicator_for_user(user: RequestUser, pk: int) -> tuple[Indicator, bool]:
    ind = (
        Indicator.objects.select_related(
            "initiative", "initiative__policy", "initiative__working_group"
        )
        .prefetch_related("values")
        .filter(pk=pk)
        .first()
    )
    if ind is None:
        raise Http404("指標が見つかりません。")
    return ind, can_manage_initiative(roles_for(user), ind.initiative)


def get_review_for_user(user: RequestUser, pk: int) -> tuple[Review, bool]:
    """The review and whether the user manages it (leader or secretariat); whether its text
    may be written now is workflow.text_editable."""
    review = (
        Review.objects.select_related(
            "initiative", "initiative__policy", "initiative__working_group"
        )
        .filter(pk=pk)
        .first()
    )
    if review is None:
        raise Http404("振り返りが見つかりません。")
    return review, can_manage_initiative(roles_for(user), review.initiative)


def get_procedure_for_user(user: RequestUser, pk: int) -> tuple[OnlineProcedure, bool]:
    proc = (
        OnlineProcedure.objects.select_related("target", "target__initiative", "section")
        .filter(pk=pk)
        .first()
    )
    if proc is None:
        raise Http404("手続が見つかりません。")
    return proc, can_edit_countable(roles_for(user), proc.target)


def get_system_for_user(user: RequestUser, pk: int) -> tuple[StandardSystem, bool]:
    system = (
        StandardSystem.objects.select_related(
            "group", "group__target", "group__target__initiative", "section"
        )
        .filter(pk=pk)
        .first()
    )
    if system is None:
        raise Http404("システムが見つかりません。")
    return system, can_edit_countable(roles_for(user), system.group.target)


# --- what the initiative screens read beside the object (views never query) -------------------


def policy_headings() -> list[tuple[int, str]]:
    """(number, title) of every basic policy, each number once, for the list's filter."""
    return list(BasicPolicy.objects.order_by("number").values_list("number", "title").distinct())


PROGRESS_HISTORY_SHOWN = 20


def progress_entry_history(entry: ProgressEntry) -> Any:
    """The entry's last changes (newest first) with who made them, for its edit page."""
    return entry.history.select_related("history_user", "history_user__profile")[
        :PROGRESS_HISTORY_SHOWN
    ]


def review_events(review: Review) -> list[Any]:
    """The review's moves in order, each with its actor (the review page's timeline)."""
    return list(review.events.select_related("actor", "actor__profile"))


def review_of_year(initiative: Initiative, fiscal_year: int) -> Review | None:
    """The initiative's review of the fiscal year, if it has been written."""
    return Review.objects.filter(initiative=initiative, fiscal_year=fiscal_year).first()
