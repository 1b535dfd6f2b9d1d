"""/api-accounts/: the secretariat's screen for API service accounts and their tokens."""

from django.urls import path

from reporting.api import account_views as views

app_name = "api_accounts"

urlpatterns = [
    path("", views.ServiceAccountListView.as_view(), name="list"),
    path("new/", views.ServiceAccountCreateView.as_view(), name="create"),
    path("<int:pk>/regenerate/", views.TokenRegenerateView.as_view(), name="regenerate"),
    path("<int:pk>/revoke/", views.TokenRevokeView.as_view(), name="revoke"),
]
