from django.urls import path

from backend.payments import apis

urlpatterns = [
    path("payments/prices/", apis.PriceListApi.as_view(), name="payment-prices"),
    path("payments/session/", apis.CheckoutSessionCreateApi.as_view(), name="payment-session"),
    path(
        "payments/session/<str:session_id>/",
        apis.CheckoutSessionSyncApi.as_view(),
        name="payment-session-sync",
    ),
    path("payments/portal/", apis.PortalSessionApi.as_view(), name="payment-portal"),
    path("payments/credits/", apis.CreditsApi.as_view(), name="payment-credits"),
    path("payments/webhook/", apis.StripeWebhookApi.as_view(), name="payment-webhook"),
]
