"""Sign-in URLs the portal adds beside django.contrib.auth.urls, under /accounts/.

No app_name: Django's own auth views and templates reverse these names unnamespaced
("login", "password_reset", …), and the portal's sign-in pages sit among them.
"""

from django.contrib.auth import views as auth_views
from django.urls import path

from workgroups.password_reset import ThrottledPasswordResetForm

urlpatterns = [
    path(
        "password_reset/",
        auth_views.PasswordResetView.as_view(form_class=ThrottledPasswordResetForm),
        name="password_reset",
    ),
]
