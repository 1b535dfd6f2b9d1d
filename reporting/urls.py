# Routes for issue 5 — dashboards, schedule view, meeting reports, plan comparison.
from django.urls import path

from reporting import views

app_name = "reporting"

urlpatterns = [
    path("dashboard/", views.DashboardView.as_view(), name="dashboard"),
    path("schedule/", views.ScheduleView.as_view(), name="schedule"),
    path("reports/", views.ReportListView.as_view(), name="report_list"),
    path("reports/new/", views.ReportCreateView.as_view(), name="report_create"),
    path("reports/<int:pk>/", views.ReportDetailView.as_view(), name="report_detail"),
    path("reports/<int:pk>/excel/", views.ReportExcelView.as_view(), name="report_excel"),
    path("compare/", views.CompareView.as_view(), name="compare"),
    path("carry-over/", views.CarryOverView.as_view(), name="carry_over"),
    path("publication/", views.PublicationView.as_view(), name="publication"),
]
