from django.urls import path

from backend.accounts.apis import account, admin_stats, api_keys, email_links, sign_in

urlpatterns = [
    path("accounts/register/", sign_in.RegisterApi.as_view(), name="account-register"),
    path("accounts/login/", sign_in.LoginApi.as_view(), name="account-login"),
    path(
        "accounts/token/refresh/", sign_in.TokenRefreshApi.as_view(), name="account-token-refresh"
    ),
    path("accounts/logout/", sign_in.LogoutApi.as_view(), name="account-logout"),
    path("accounts/me/", account.MeApi.as_view(), name="account-me"),
    path("accounts/export/", account.ExportApi.as_view(), name="account-export"),
    path(
        "accounts/verify-email/", email_links.VerifyEmailApi.as_view(), name="account-verify-email"
    ),
    path(
        "accounts/verify-email/resend/",
        email_links.VerifyEmailResendApi.as_view(),
        name="account-verify-email-resend",
    ),
    path(
        "accounts/password-reset/",
        email_links.PasswordResetApi.as_view(),
        name="account-password-reset",
    ),
    path(
        "accounts/password-reset/confirm/",
        email_links.PasswordResetConfirmApi.as_view(),
        name="account-password-reset-confirm",
    ),
    path("accounts/api-keys/", api_keys.ApiKeyListCreateApi.as_view(), name="account-api-keys"),
    path(
        "accounts/api-keys/<str:key_id>/",
        api_keys.ApiKeyRevokeApi.as_view(),
        name="account-api-key-revoke",
    ),
    path("admin/stats/", admin_stats.AdminStatsApi.as_view(), name="admin-stats"),
]
