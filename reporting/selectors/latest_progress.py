"""The latest progress of a year, typed: what ``initiatives.selectors`` annotates, named here.

``initiatives_with_latest_progress`` adds ``latest_status``, ``latest_percent`` and
``latest_date`` to each initiative but declares the plain ``QuerySet[Initiative]`` (that
module is being reworked elsewhere in issue 24). Until its own signature names the
annotations, the reporting selectors read them through these types, so a misspelt or
missing annotation is a type error rather than an AttributeError on a page.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, TypeAlias, TypedDict, cast

from django.db.models import QuerySet

from initiatives.models import Initiative
from initiatives.selectors import initiatives_with_latest_progress

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


class LatestProgress(TypedDict):
    latest_status: str | None  # None: nothing logged in the year
    latest_percent: int | None
    latest_date: date | None


InitiativeWithProgress: TypeAlias = "WithAnnotations[Initiative, LatestProgress]"


def with_latest_progress(
    queryset: QuerySet[Initiative], fiscal_year: int
) -> QuerySet[InitiativeWithProgress]:
    """initiatives_with_latest_progress(), typed with the three annotations it adds."""
    return annotated_with_progress(initiatives_with_latest_progress(queryset, fiscal_year))


def annotated_with_progress(
    queryset: QuerySet[Initiative],
) -> QuerySet[InitiativeWithProgress]:
    """A queryset already annotated by initiatives_with_latest_progress() (the dashboard's
    list is), typed so. The cast only names what the annotation added: its input must be a
    QuerySet[Initiative], so a change of the producer's type still fails here."""
    return cast("QuerySet[InitiativeWithProgress]", queryset)
