from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from initiatives.views import home

admin.site.site_header = "かほく市DX推進ポータル 管理画面"
admin.site.site_title = "かほく市DX推進ポータル"
admin.site.index_title = "データ管理"

urlpatterns = [
    path("", home, name="home"),
    path("initiatives/", include("initiatives.urls")),
    path("excel/", include("plans.excel_urls")),
    path("plan/", include("plans.urls")),
    path("public/", include("plans.public_urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:  # pragma: no cover - development convenience only
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
