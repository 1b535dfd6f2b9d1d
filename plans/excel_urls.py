# Routes for issue 4 — Excel/CSV import and export.
from django.urls import path  # noqa: F401

app_name = "excel"

urlpatterns: list = []
