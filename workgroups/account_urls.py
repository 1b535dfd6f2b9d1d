"""Sign-in URLs the portal adds beside django.contrib.auth.urls, under /accounts/.

No app_name: Django's own auth views and templates reverse these names unnamespaced
("login", "password_reset", …), and the portal's sign-in pages sit among them.
"""

from django.contrib.auth import views as auth_views
from django.urls import path

from workgroups import account_views, notification_views
from workgroups.password_reset import ThrottledPasswordResetForm

urlpatterns = [
    path("login/", account_views.PortalLoginView.as_view(), name="login"),
    path("login/code/", account_views.otp_login_view, name="otp_login"),
    path("reauthenticate/", account_views.reauthenticate, name="reauthenticate"),
    path("security/", account_views.account_security, name="account_security"),
    path("security/setup/", account_views.otp_setup, name="otp_setup"),
    path(
        "security/recovery-codes/",
        account_views.recovery_codes_regenerate,
        name="recovery_codes_regenerate",
    ),
    path("security/disable/", account_views.otp_disable, name="otp_disable"),
    path("mail/", notification_views.account_mail, name="account_mail"),
    path(
        "password_reset/",
        auth_views.PasswordResetView.as_view(form_class=ThrottledPasswordResetForm),
        name="password_reset",
    ),
]
