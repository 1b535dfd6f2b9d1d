from django.urls import path

from initiatives import views

app_name = "initiatives"

urlpatterns = [
    path("", views.initiative_list, name="list"),
    path("<int:pk>/", views.initiative_detail, name="detail"),
    path("<int:pk>/progress/new/", views.progress_create, name="progress_create"),
    path("<int:pk>/progress/<int:entry_pk>/edit/", views.progress_edit, name="progress_edit"),
    path("<int:pk>/indicators/new/", views.indicator_create, name="indicator_create"),
    path("indicators/<int:pk>/edit/", views.indicator_edit, name="indicator_edit"),
    path("<int:pk>/reviews/<int:fy>/edit/", views.review_edit, name="review_edit"),
    path("reviews/<int:pk>/", views.review_detail, name="review"),
    path("reviews/<int:pk>/submit/", views.review_submit, name="review_submit"),
    path("reviews/<int:pk>/return/", views.review_return, name="review_return"),
    path("reviews/<int:pk>/check/", views.review_check, name="review_check"),
    path("reviews/<int:pk>/approve/", views.review_approve, name="review_approve"),
    path("procedures/", views.procedure_list, name="procedures"),
    path("procedures/new/", views.procedure_create, name="procedure_create"),
    path("procedures/<int:pk>/edit/", views.procedure_edit, name="procedure_edit"),
    path("systems/", views.system_list, name="systems"),
    path("systems/<int:pk>/edit/", views.system_edit, name="system_edit"),
]
