from django.urls import path

from workgroups import roster_views, views

app_name = "workgroups"

urlpatterns = [
    path("staff/", views.staff_list, name="staff_list"),
    path("staff/roster/", roster_views.staff_roster, name="staff_roster"),
    path("staff/roster/confirm/", roster_views.staff_roster_confirm, name="staff_roster_confirm"),
    path("staff/roster/done/", roster_views.staff_roster_done, name="staff_roster_done"),
    path("staff/new/", views.staff_create, name="staff_create"),
    path("staff/<int:pk>/", views.staff_edit, name="staff_edit"),
    path("staff/<int:pk>/active/", views.staff_set_active, name="staff_set_active"),
    path("staff/<int:pk>/password/", views.staff_password, name="staff_password"),
    path("sections/", views.sections, name="sections"),
    path("working-groups/", views.working_groups, name="working_groups"),
    path("bodies/", views.organisation, name="organisation"),
    path("staff/<int:pk>/unlock/", views.staff_unlock, name="staff_unlock"),
    path("staff/<int:pk>/history/", views.staff_history, name="staff_history"),
]
