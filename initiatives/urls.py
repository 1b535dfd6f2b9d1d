from django.urls import path

from initiatives import views
from initiatives.workflow import MOVES

app_name = "initiatives"

urlpatterns = [
    path("", views.initiative_list, name="list"),
    path("<int:pk>/", views.initiative_detail, name="detail"),
    path("<int:pk>/progress/new/", views.progress_create, name="progress_create"),
    path("<int:pk>/progress/<int:entry_pk>/edit/", views.progress_edit, name="progress_edit"),
    path("<int:pk>/indicators/new/", views.indicator_create, name="indicator_create"),
    path("indicators/<int:pk>/edit/", views.indicator_edit, name="indicator_edit"),
    path("<int:pk>/reviews/<int:fy>/edit/", views.review_edit, name="review_edit"),
    path("reviews/open/", views.reviews_open, name="reviews_open"),
    path("reviews/<int:pk>/", views.review_detail, name="review"),
    # One URL per move of the review's transition table: review_submit, review_return …
    *(
        path(
            f"reviews/<int:pk>/{move.name}/",
            views.review_move,
            {"move": move.name},
            name=f"review_{move.name}",
        )
        for move in MOVES
    ),
    path("procedures/", views.procedure_list, name="procedures"),
    path("procedures/new/", views.procedure_create, name="procedure_create"),
    path("procedures/<int:pk>/edit/", views.procedure_edit, name="procedure_edit"),
    path("systems/", views.system_list, name="systems"),
    path("systems/<int:pk>/edit/", views.system_edit, name="system_edit"),
    path(
        "procedures/<int:pk>/confirm/",
        views.countable_confirm,
        {"kind": "procedures"},
        name="procedure_confirm",
    ),
    path(
        "systems/<int:pk>/confirm/",
        views.countable_confirm,
        {"kind": "systems"},
        name="system_confirm",
    ),
]
