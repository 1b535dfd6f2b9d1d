"""The reporting app's admin pages: the meeting reports here; the API's with their models
(reporting/api/admin.py)."""

from django.contrib import admin

from reporting.api import admin as api_admin  # noqa: F401  (registers ApiTokenAdmin)
from reporting.models import ReportSnapshot


@admin.register(ReportSnapshot)
class ReportSnapshotAdmin(admin.ModelAdmin):
    list_display = ["title", "fiscal_year", "taken_on", "taken_by"]
    list_filter = ["fiscal_year", "plan"]
    search_fields = ["title"]
    readonly_fields = ["data", "taken_at", "taken_by"]
