from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from initiatives.views import home
from kahoku_dx.health import healthz
from portal_lib.accounts import PortalPasswordResetConfirmView
from portal_lib.date_echo import date_echo

admin.site.site_header = _("かほく市DX推進ポータル 管理画面")
admin.site.site_title = _("かほく市DX推進ポータル")
admin.site.index_title = _("データ管理")

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("dates/echo/", date_echo, name="date_echo"),
    path("initiatives/", include("initiatives.urls")),
    path("organisation/", include("workgroups.urls")),
    path("excel/", include("reporting.urls.excel")),
    path("plan/", include("reporting.urls.plan")),
    path("public/", include("reporting.urls.public")),
    path("api/v1/", include("reporting.api.urls")),
    path("api-accounts/", include("reporting.api.account_urls")),
    # Before Django's own: the set-password page also takes the secretariat's longer-lived
    # set-password links (portal_lib.accounts).
    path(
        "accounts/reset/<uidb64>/<token>/",
        PortalPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    # The portal's sign-in pages first (throttled reset, second factor, re-authentication).
    path("accounts/", include("workgroups.account_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

handler400 = "kahoku_dx.views.bad_request"
handler403 = "kahoku_dx.views.permission_denied"
handler404 = "kahoku_dx.views.page_not_found"
handler500 = "kahoku_dx.views.server_error"

if settings.DEBUG:  # pragma: no cover - development convenience only
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
