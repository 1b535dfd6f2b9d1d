# Routes for issue 5 — public progress page and open data (no login); issue 23: the
# open-data datasets (reporting.opendata) and their data dictionary.
from django.urls import path
from django.views.generic import TemplateView

from reporting.views import public as public_views

app_name = "public"

urlpatterns = [
    path("", public_views.index, name="index"),
    path("data/", public_views.data_dictionary, name="data"),
    path("progress.csv", public_views.progress_csv, name="csv"),
    path("progress.json", public_views.progress_json, name="json"),
    path("projects.csv", public_views.projects_csv, name="projects_csv"),
    path("projects.json", public_views.projects_json, name="projects_json"),
    path("indicators.csv", public_views.indicators_csv, name="indicators_csv"),
    path("indicators.json", public_views.indicators_json, name="indicators_json"),
    # The help and contact page every page's footer links to (WCAG 2.2 3.2.6 consistent help).
    path("help/", TemplateView.as_view(template_name="public/help.html"), name="help"),
]
