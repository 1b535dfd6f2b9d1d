# Routes for issue 3 — progress, indicators, PDCA reviews, countable targets.
from django.urls import path  # noqa: F401

app_name = "initiatives"

urlpatterns: list = []
