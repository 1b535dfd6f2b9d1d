# Routes for issue 4 — Excel/CSV import and export (secretariat only).
from django.urls import path

from reporting.views import excel as views

app_name = "excel"

urlpatterns = [
    path("", views.ExcelIndexView.as_view(), name="index"),
    path("schedule/export/", views.ScheduleExportView.as_view(), name="schedule_export"),
    path("schedule/import/", views.ScheduleImportView.as_view(), name="schedule_import"),
    path("schedule/confirm/", views.ScheduleConfirmView.as_view(), name="schedule_confirm"),
    path("<slug:slug>/export.<str:fmt>", views.BulkExportView.as_view(), name="bulk_export"),
    path("<slug:slug>/template/", views.BulkTemplateView.as_view(), name="bulk_template"),
    path("<slug:slug>/import/", views.BulkImportView.as_view(), name="bulk_import"),
    path("<slug:slug>/confirm/", views.BulkConfirmView.as_view(), name="bulk_confirm"),
]
