# Routes for issue 5 — dashboards, schedule view, meeting reports, plan comparison.
from django.urls import include, path

from reporting.views import audit as audit_views
from reporting.views import closing as closing_views
from reporting.views import dashboard as views
from reporting.views import switch as switch_views
from reporting.views import versions as version_views

app_name = "reporting"

urlpatterns = [
    path("", include("reporting.urls.drafting")),
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("schedule/", views.ScheduleView.as_view(), name="schedule"),
    path("reports/", views.ReportListView.as_view(), name="report_list"),
    path("reports/new/", views.ReportCreateView.as_view(), name="report_create"),
    path("reports/<int:pk>/", views.ReportDetailView.as_view(), name="report_detail"),
    path("reports/<int:pk>/excel/", views.ReportExcelView.as_view(), name="report_excel"),
    path("compare/", views.CompareView.as_view(), name="compare"),
    path("carry-over/", views.CarryOverView.as_view(), name="carry_over"),
    path("publication/", views.PublicationView.as_view(), name="publication"),
    path("switch/", switch_views.PlanSwitchView.as_view(), name="plan_switch"),
    path("versions/", version_views.VersionListView.as_view(), name="versions"),
    path("summary/", closing_views.SummaryView.as_view(), name="summary"),
    path("versions/compare/", version_views.VersionCompareView.as_view(), name="version_compare"),
    path(
        "versions/<int:pk>/document.docx",
        version_views.VersionDocumentView.as_view(),
        name="version_document",
    ),
    path(
        "versions/<int:pk>/document.pdf", version_views.VersionPdfView.as_view(), name="version_pdf"
    ),
    path(
        "versions/<int:pk>/print/", version_views.VersionPrintView.as_view(), name="version_print"
    ),
    path(
        "versions/<int:pk>/chapters/<int:number>/",
        version_views.ChapterEditView.as_view(),
        name="chapter_edit",
    ),
    # The audit trail (issue 23): changes in history, login records, a lockout lifted.
    path("audit/", audit_views.AuditChangeListView.as_view(), name="audit"),
    path("audit/changes.csv", audit_views.AuditChangeExportView.as_view(), name="audit_export"),
    path("audit/logins/", audit_views.AuditLoginListView.as_view(), name="audit_logins"),
    path("audit/logins/unlock/", audit_views.audit_unlock, name="audit_unlock"),
]
