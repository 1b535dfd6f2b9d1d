"""The reporting app's models: the meeting report's snapshot here; the API's token lives with
the code that uses it (reporting/api/models.py) and Django finds it here."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from plans.models import FY_VALIDATORS, Plan
from reporting.api.models import ApiToken

__all__ = ["REPORT_DOCUMENT_NUMBER_MAX", "ApiToken", "ReportSnapshot"]

REPORT_DOCUMENT_NUMBER_MAX = 20  # 「資料2」「資料2-1」「参考資料3」: short by nature


class ReportSnapshot(models.Model):
    """A frozen picture of progress for a headquarters meeting.

    Moved from initiatives (migrations initiatives 0014 / reporting 0004, state only): the
    table keeps its name, so the rows never moved.
    """

    plan = models.ForeignKey(
        Plan, verbose_name=_("計画"), on_delete=models.CASCADE, related_name="snapshots"
    )
    fiscal_year = models.PositiveIntegerField(_("年度"), validators=FY_VALIDATORS)
    title = models.CharField(_("表題"), max_length=200)
    taken_on = models.DateField(_("基準日"), default=date.today)
    taken_at = models.DateTimeField(_("作成日時"), auto_now_add=True)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("作成者"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    data = models.JSONField(_("内容"), default=dict)
    # 「資料2」: the number the meeting's agenda gives the paper, printed at its top right.
    document_number = models.CharField(
        _("資料番号"), max_length=REPORT_DOCUMENT_NUMBER_MAX, blank=True, default=""
    )

    class Meta:
        db_table = "initiatives_reportsnapshot"
        verbose_name = _("本部会議資料(スナップショット)")
        verbose_name_plural = _("本部会議資料(スナップショット)")
        ordering = ["-taken_at"]

    def __str__(self) -> str:
        return f"{self.title} ({self.taken_on})"
