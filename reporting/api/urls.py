"""/api/v1/: the read-only JSON API, its OpenAPI schema and its docs page."""

from django.urls import path

from reporting.api import views

app_name = "api"

urlpatterns = [
    path("summary/", views.SummaryView.as_view(), name="summary"),
    path("initiatives/", views.InitiativeListView.as_view(), name="initiatives"),
    path("initiatives/<str:code>/", views.InitiativeDetailView.as_view(), name="initiative_detail"),
    path("procedures/", views.ProcedureListView.as_view(), name="procedures"),
    path("systems/", views.SystemListView.as_view(), name="systems"),
    path("schema/", views.SchemaView.as_view(), name="schema"),
    path("docs/", views.docs_page, name="docs"),
]
