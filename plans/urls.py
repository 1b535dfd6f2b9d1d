# Routes for issue 5 — dashboards, schedule view, meeting reports, plan comparison.
from django.urls import path  # noqa: F401

app_name = "plans"

urlpatterns: list = []
