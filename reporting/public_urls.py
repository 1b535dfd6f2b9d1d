# Routes for issue 5 — public progress page and open data (no login).
from django.urls import path

from reporting import public_views

app_name = "public"

urlpatterns = [
    path("", public_views.index, name="index"),
    path("progress.csv", public_views.progress_csv, name="csv"),
    path("progress.json", public_views.progress_json, name="json"),
]
