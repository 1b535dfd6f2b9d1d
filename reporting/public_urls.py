# Routes for issue 5 — public progress page and open data (no login).
from django.urls import path
from django.views.generic import TemplateView

from reporting import public_views

app_name = "public"

urlpatterns = [
    path("", public_views.index, name="index"),
    path("progress.csv", public_views.progress_csv, name="csv"),
    path("progress.json", public_views.progress_json, name="json"),
    # The help and contact page every page's footer links to (WCAG 2.2 3.2.6 consistent help).
    path("help/", TemplateView.as_view(template_name="public/help.html"), name="help"),
]
