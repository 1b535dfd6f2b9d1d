# Routes for issue 5 — public progress page and open data (no login).
from django.urls import path  # noqa: F401

app_name = "public"

urlpatterns: list = []
