# Routes for issue 5 — dashboards, schedule view, meeting reports, plan comparison.
from django.urls import include, path

from reporting.views import (
    audit,
    carry_over,
    closing,
    dashboard,
    publication,
    reports,
    switch,
    versions,
)

app_name = "reporting"

urlpatterns = [
    path("", include("reporting.urls.drafting")),
    path("dashboard/", dashboard.DashboardView.as_view(), name="dashboard"),
    path("schedule/", dashboard.ScheduleView.as_view(), name="schedule"),
    path("reports/", reports.ReportListView.as_view(), name="report_list"),
    path("reports/new/", reports.ReportCreateView.as_view(), name="report_create"),
    path("reports/<int:pk>/", reports.ReportDetailView.as_view(), name="report_detail"),
    path("reports/<int:pk>/excel/", reports.ReportExcelView.as_view(), name="report_excel"),
    path("compare/", versions.CompareView.as_view(), name="compare"),
    path("carry-over/", carry_over.CarryOverView.as_view(), name="carry_over"),
    path("publication/", publication.PublicationView.as_view(), name="publication"),
    path("switch/", switch.PlanSwitchView.as_view(), name="plan_switch"),
    path("versions/", versions.VersionListView.as_view(), name="versions"),
    path("summary/", closing.SummaryView.as_view(), name="summary"),
    path("versions/compare/", versions.VersionCompareView.as_view(), name="version_compare"),
    path(
        "versions/<int:pk>/document.docx",
        versions.VersionDocumentView.as_view(),
        name="version_document",
    ),
    path("versions/<int:pk>/document.pdf", versions.VersionPdfView.as_view(), name="version_pdf"),
    path("versions/<int:pk>/print/", versions.VersionPrintView.as_view(), name="version_print"),
    path(
        "versions/<int:pk>/chapters/<int:number>/",
        versions.ChapterEditView.as_view(),
        name="chapter_edit",
    ),
    # The audit trail (issue 23): changes in history, login records, a lockout lifted.
    path("audit/", audit.AuditChangeListView.as_view(), name="audit"),
    path("audit/changes.csv", audit.AuditChangeExportView.as_view(), name="audit_export"),
    path("audit/logins/", audit.AuditLoginListView.as_view(), name="audit_logins"),
    path("audit/logins/unlock/", audit.audit_unlock, name="audit_unlock"),
]
