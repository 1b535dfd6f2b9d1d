"""The PDCA review's state machine: one transition table, read by everyone.

access.py asks it which moves a user may make now (and so which buttons the review page
shows), services.py asks it whether a move is possible and what to say when it is not,
urls.py makes one URL per move, and the review page draws one form per allowed move.
Change a row here and all of them change together.

Who may make a move is named here by a role key (``BY_*``); what a role key means for a
user is decided in access.py, with the other access predicates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from initiatives.models import Review, ReviewEvent

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

State = Review.State

# Role keys; access.py maps each to a predicate on (roles, review).
BY_MANAGER = "manager"  # the WG leader of the initiative, or the secretariat
BY_SECRETARIAT = "secretariat"
BY_HEADQUARTERS = "headquarters"

# The states in which the review text may still be written (and submitted).
EDITABLE_STATES: tuple[str, ...] = (State.DRAFT, State.RETURNED)

MSG_RETURN_COMMENT = _("差戻しの理由(コメント)を入力してください。")


@dataclass(frozen=True)
class Move:
    """One move of a review from some states to another, and how it is offered and refused."""

    name: str  # URL segment and url name suffix: initiatives:review_<name>
    sources: tuple[str, ...]
    target: str
    by: str  # a BY_* role key
    verb: StrOrPromise  # "…のため、<verb>できません。"
    denied: StrOrPromise  # PermissionDenied message for the wrong role
    done: StrOrPromise  # flash message after the move
    title: StrOrPromise  # heading of the form on the review page
    button: StrOrPromise
    title_again: StrOrPromise = ""  # heading/button when moving from 差戻し (resubmission)
    button_again: StrOrPromise = ""
    hint: StrOrPromise = ""
    confirm: StrOrPromise = ""
    comment_label: StrOrPromise = _("コメント（任意）")
    comment_required: bool = False
    requires_complete: bool = False  # Plan–Act and the self grade must be written
    danger: bool = False

    @property
    def url_name(self) -> str:
        return f"initiatives:review_{self.name}"


# In the order the review page shows the forms.
MOVES: tuple[Move, ...] = (
    Move(
        name="submit",
        sources=EDITABLE_STATES,
        target=State.SUBMITTED,
        by=BY_MANAGER,
        verb=pgettext_lazy("cannot be …", "提出"),
        denied=_("振り返りの提出は、担当WGのWG長と事務局のみ行えます。"),
        done=_("振り返りを提出しました。"),
        title=_("提出"),
        button=_("提出する"),
        title_again=_("再提出"),
        button_again=_("再提出する"),
        hint=_("提出すると事務局の確認待ちになり、差し戻されるまで編集できません。"),
        confirm=_("振り返りを提出します。よろしいですか？"),
        requires_complete=True,
    ),
    Move(
        name="check",
        sources=(State.SUBMITTED,),
        target=State.CHECKED,
        by=BY_SECRETARIAT,
        verb=pgettext_lazy("cannot be …", "確認済に"),
        denied=_("確認は事務局(情報推進課)のみ行えます。"),
        done=_("振り返りを確認済にしました(推進本部の承認待ち)。"),
        title=_("確認（推進本部へ回付）"),
        button=_("確認済にする"),
    ),
    Move(
        name="return",
        sources=(State.SUBMITTED,),
        target=State.RETURNED,
        by=BY_SECRETARIAT,
        verb=pgettext_lazy("cannot be …", "差戻し"),
        denied=_("差戻しは事務局(情報推進課)のみ行えます。"),
        done=_("振り返りを差し戻しました。"),
        # The action's heading, not the state's label (「差戻し」 the state reads "Returned").
        title=pgettext_lazy("review move", "差戻し"),
        button=_("差し戻す"),
        comment_label=_("差戻しの理由"),
        comment_required=True,
        danger=True,
    ),
    Move(
        name="approve",
        sources=(State.CHECKED,),
        target=State.APPROVED,
        by=BY_HEADQUARTERS,
        verb=pgettext_lazy("cannot be …", "承認"),
        denied=_("承認はDX推進本部のみ行えます。"),
        done=_("振り返りを承認しました。以後は変更できません。"),
        title=_("承認"),
        button=_("承認する"),
        hint=_("承認すると、この振り返りはロックされ変更できなくなります。"),
        confirm=_("承認すると以後は変更できません。承認しますか？"),
    ),
)

MOVES_BY_NAME: dict[str, Move] = {m.name: m for m in MOVES}


def move_named(name: str) -> Move:
    return MOVES_BY_NAME[name]


@dataclass(frozen=True)
class MoveForm:
    """A move as the review page offers it for the review's current state."""

    move: Move
    title: StrOrPromise
    button: StrOrPromise


def offered(move: Move, state: str) -> MoveForm:
    again = is_sent_back(state)
    return MoveForm(
        move,
        title=(again and move.title_again) or move.title,
        button=(again and move.button_again) or move.button,
    )


# --- facts derived from the table (homes, the review page, services and templates ask these) --

# The state a review is sent back to: the target of the move that needs a reason.
SENT_BACK: str = next(m.target for m in MOVES if m.comment_required)


def is_sent_back(state: str | None) -> bool:
    """The review was sent back (差戻し) and waits for its writer to fix and resubmit it."""
    return state == SENT_BACK


def states_acted_on_by(*by: str) -> tuple[str, ...]:
    """The states in which a role key (BY_*) has a move to make, in the table's order:
    the states whose reviews wait for that role (the homes' to-do lists)."""
    states: list[str] = []
    for m in MOVES:
        if m.by in by:
            states.extend(s for s in m.sources if s not in states)
    return tuple(states)


def text_editable(review: Review) -> bool:
    """Whether a review's text may still be written: in a state it can be submitted from, and
    not locked. Edit links, the edit page, review_save and reviews_open all ask this."""
    return review.state in EDITABLE_STATES and not review.is_locked


def return_comment(events: Iterable[ReviewEvent]) -> str:
    """The reason given with the last send-back (events in time order), or ""."""
    comments = [e.comment for e in events if e.to_state == SENT_BACK]
    return comments[-1] if comments else ""


@dataclass(frozen=True)
class StateFlags:
    """A review state's facts for templates, so that no template compares a state literally."""

    state: str | None
    sent_back: bool
    editable: bool
    locked: bool
    waiting_for: tuple[str, ...]  # the role keys with a move to make now


def state_flags(state: str | None) -> StateFlags:
    return StateFlags(
        state=state,
        sent_back=is_sent_back(state),
        editable=state in EDITABLE_STATES,
        locked=state is not None and not any(state in m.sources for m in MOVES),
        waiting_for=tuple(dict.fromkeys(m.by for m in MOVES if state in m.sources)),
    )
