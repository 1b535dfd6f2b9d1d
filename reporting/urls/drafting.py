"""The drafting workspace's URLs under /plan/<code>/draft/ (included by reporting.urls.plan)."""

from django.urls import path

from reporting.views import drafting as views

urlpatterns = [
    path("<slug:code>/draft/", views.DraftOverviewView.as_view(), name="draft"),
    path(
        "<slug:code>/draft/policies/new/", views.PolicyFormView.as_view(), name="draft_policy_new"
    ),
    path(
        "<slug:code>/draft/policies/<int:pk>/", views.PolicyFormView.as_view(), name="draft_policy"
    ),
    path(
        "<slug:code>/draft/initiatives/new/",
        views.InitiativeFormView.as_view(),
        name="draft_initiative_new",
    ),
    path(
        "<slug:code>/draft/initiatives/<int:pk>/",
        views.InitiativeFormView.as_view(),
        name="draft_initiative",
    ),
    path(
        "<slug:code>/draft/initiatives/<int:parent>/projects/new/",
        views.ProjectFormView.as_view(),
        name="draft_project_new",
    ),
    path(
        "<slug:code>/draft/projects/<int:pk>/",
        views.ProjectFormView.as_view(),
        name="draft_project",
    ),
    path(
        "<slug:code>/draft/initiatives/<int:parent>/indicators/new/",
        views.IndicatorFormView.as_view(),
        name="draft_indicator_new",
    ),
    path(
        "<slug:code>/draft/indicators/<int:pk>/",
        views.IndicatorFormView.as_view(),
        name="draft_indicator",
    ),
    path(
        "<slug:code>/draft/schedule/new/",
        views.ScheduleItemFormView.as_view(),
        name="draft_item_new",
    ),
    path(
        "<slug:code>/draft/schedule/<int:pk>/",
        views.ScheduleItemFormView.as_view(),
        name="draft_item",
    ),
    path(
        "<slug:code>/draft/schedule/<int:parent>/rows/new/",
        views.ScheduleRowFormView.as_view(),
        name="draft_row_new",
    ),
    path("<slug:code>/draft/rows/<int:pk>/", views.ScheduleRowFormView.as_view(), name="draft_row"),
    path(
        "<slug:code>/draft/predecessor-chapter/",
        views.PredecessorChapterView.as_view(),
        name="draft_predecessor_chapter",
    ),
    path(
        "<slug:code>/draft/<str:kind>/<int:pk>/<str:action>/",
        views.DraftActionView.as_view(),
        name="draft_action",
    ),
]
