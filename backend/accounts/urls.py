from django.urls import path

from backend.accounts import apis

urlpatterns = [
    path("accounts/register/", apis.RegisterApi.as_view(), name="account-register"),
    path("accounts/login/", apis.LoginApi.as_view(), name="account-login"),
    path("accounts/token/refresh/", apis.TokenRefreshApi.as_view(), name="account-token-refresh"),
    path("accounts/logout/", apis.LogoutApi.as_view(), name="account-logout"),
    path("accounts/me/", apis.MeApi.as_view(), name="account-me"),
    path("accounts/export/", apis.ExportApi.as_view(), name="account-export"),
    path("accounts/verify-email/", apis.VerifyEmailApi.as_view(), name="account-verify-email"),
    path(
        "accounts/verify-email/resend/",
        apis.VerifyEmailResendApi.as_view(),
        name="account-verify-email-resend",
    ),
    path(
        "accounts/password-reset/", apis.PasswordResetApi.as_view(), name="account-password-reset"
    ),
    path(
        "accounts/password-reset/confirm/",
        apis.PasswordResetConfirmApi.as_view(),
        name="account-password-reset-confirm",
    ),
    path("accounts/api-keys/", apis.ApiKeyListCreateApi.as_view(), name="account-api-keys"),
    path(
        "accounts/api-keys/<str:key_id>/",
        apis.ApiKeyRevokeApi.as_view(),
        name="account-api-key-revoke",
    ),
    path("admin/stats/", apis.AdminStatsApi.as_view(), name="admin-stats"),
]
