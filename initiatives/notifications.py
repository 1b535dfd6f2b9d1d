"""Mail to the people who must act next when a PDCA review moves (workflow.MOVES).

submit → the secretariat checks it; return → the WG leader rewrites it (the mail quotes the
reason); check → headquarters approves it; approve → the WG's leader and members learn it is
final. Opening a round in bulk (services.reviews_open) sends each WG leader one digest of
their initiatives instead of one mail per review.

Who gets mail: people who can log in (workgroups.access.can_log_in) with a mail address and
``StaffProfile.review_mail`` on (each person turns it off on their mail settings page, the
secretariat on the staff screen), never the person who made the move. The mails are
Japanese by design (the city's working language), rendered from templates/mail/, and sent
only once the transaction commits: a move rolled back mails nobody. A mail that fails is
logged; the move stands.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from initiatives.models import Review
from initiatives.workflow import Move
from portal_lib import era
from portal_lib.accounts import portal_url
from portal_lib.people import display_name
from workgroups.access import can_log_in
from workgroups.models import StaffProfile, WorkingGroupMembership

if TYPE_CHECKING:
    from portal_lib.users import PortalUser

log = logging.getLogger(__name__)


def _secretariat(review: Review) -> Q | None:
    return Q(profile__role=StaffProfile.Role.SECRETARIAT)


def _headquarters(review: Review) -> Q | None:
    return Q(profile__role=StaffProfile.Role.HEADQUARTERS) | Q(
        hq_memberships__headquarters__plan_id=review.initiative.policy.plan_id
    )


def _wg_leaders(review: Review) -> Q | None:
    wg = review.initiative.working_group_id
    if wg is None:
        return None
    return Q(
        wg_memberships__working_group_id=wg,
        wg_memberships__role=WorkingGroupMembership.Role.LEADER,
    )


def _wg_people(review: Review) -> Q | None:
    wg = review.initiative.working_group_id
    return None if wg is None else Q(wg_memberships__working_group_id=wg)


# Who must act next after each move of workflow.MOVES (a test checks every move has a row).
RECIPIENTS: dict[str, Callable[[Review], Q | None]] = {
    "submit": _secretariat,
    "return": _wg_leaders,
    "check": _headquarters,
    "approve": _wg_people,
}


def wants_review_mail(user: PortalUser) -> bool:
    """Whether ``user`` gets review mails at all: can log in, has an address, did not opt out."""
    profile = getattr(user, "profile", None)
    return can_log_in(user) and bool(user.email) and (profile is None or profile.review_mail)


def _people(condition: Q | None, *, actor: PortalUser) -> list[PortalUser]:
    if condition is None:
        return []
    users = (
        get_user_model()
        .objects.filter(condition, is_active=True)
        .exclude(email="")
        .exclude(pk=actor.pk)
        .select_related("profile")
        .distinct()
        .order_by("username")
    )
    return [u for u in users if wants_review_mail(u)]


def _message(template: str, context: dict[str, Any], to: Any) -> EmailMessage:
    context = {
        **context,
        "name": display_name(to),
        "settings_url": portal_url(reverse("account_mail")),
    }
    with translation.override("ja"):
        subject = render_to_string(f"mail/{template}_subject.txt", context)
        body = render_to_string(f"mail/{template}_body.txt", context)
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to.email],
    )


def _deliver(messages: list[EmailMessage]) -> None:
    for message in messages:
        try:
            message.send()
        except Exception:  # a mail server down must not undo or refuse the move
            log.exception("review mail to %s failed: %s", message.to, message.subject)


def _send_on_commit(build: Callable[[], list[EmailMessage]], what: str) -> None:
    try:
        messages = build()
    except Exception:
        log.exception("review mail for %s could not be written", what)
        return
    if messages:
        transaction.on_commit(lambda: _deliver(messages))


def review_moved(*, review: Review, move: Move, actor: PortalUser, comment: str = "") -> None:
    """Mail those who must act after ``move`` (services.review_move calls it after the move)."""

    def build() -> list[EmailMessage]:
        rule = RECIPIENTS.get(move.name)
        people = [] if rule is None else _people(rule(review), actor=actor)
        context = {
            "review": review,
            "initiative": review.initiative,
            "fiscal_year": era.format_fiscal_year(review.fiscal_year),
            "state": review.get_state_display(),
            "actor": display_name(actor),
            "comment": comment.strip(),
            "url": portal_url(reverse("initiatives:review", args=[review.pk])),
        }
        return [_message(f"review_{move.name}", context, person) for person in people]

    _send_on_commit(build, f"review {review.pk} {move.name}")


@dataclass
class _Digest:
    user: PortalUser
    reviews: list[Review] = field(default_factory=list)


def reviews_opened(
    *, reviews: Iterable[Review], fiscal_year: int, due_date: date, actor: PortalUser
) -> None:
    """One mail per WG leader listing their initiatives whose review was opened (or whose due
    date moved) by one bulk 「一括作成」 (services.reviews_open), instead of one per review."""

    def build() -> list[EmailMessage]:
        by_wg: dict[int, list[Review]] = {}
        for review in reviews:
            if review.initiative.working_group_id is not None:
                by_wg.setdefault(review.initiative.working_group_id, []).append(review)
        if not by_wg:
            return []
        digests: dict[int, _Digest] = {}
        memberships = (
            WorkingGroupMembership.objects.filter(
                working_group_id__in=by_wg, role=WorkingGroupMembership.Role.LEADER
            )
            .exclude(user__email="")
            .exclude(user_id=actor.pk)
            .select_related("user", "user__profile")
            .order_by("user__username")
        )
        for m in memberships:
            if wants_review_mail(m.user):
                digest = digests.setdefault(m.user_id, _Digest(m.user))
                digest.reviews.extend(by_wg[m.working_group_id])
        messages = []
        for digest in digests.values():
            items = sorted(
                digest.reviews, key=lambda r: (r.initiative.policy.number, r.initiative.number)
            )
            context = {
                "fiscal_year": era.format_fiscal_year(fiscal_year),
                "due_date": era.format_date(due_date),
                "items": [
                    (r.initiative, portal_url(reverse("initiatives:review", args=[r.pk])))
                    for r in items
                ],
                "actor": display_name(actor),
            }
            messages.append(_message("reviews_opened", context, digest.user))
        return messages

    _send_on_commit(build, f"reviews opened {fiscal_year}")
