from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.permissions import HasAccount, account_of
from backend.payments import catalogue, selectors
from backend.payments.models import CheckoutSession, CreditEntry
from backend.payments.services import checkout, webhook
from backend.payments.stripe_api import stripe_enabled


class CheckoutSessionSerializer(serializers.Serializer):
    id = serializers.UUIDField(help_text="This attempt's id at InsightStream.")
    session_id = serializers.CharField(source="stripe_session_id", allow_null=True)
    url = serializers.CharField(help_text="Stripe Checkout's page: send the buyer there.")
    price_key = serializers.CharField()
    mode = serializers.CharField()
    status = serializers.CharField()
    payment_status = serializers.CharField()
    fulfilled = serializers.SerializerMethodField()
    failed = serializers.SerializerMethodField(
        help_text="A delayed payment (bank debit) failed: nothing was charged or credited."
    )

    def get_fulfilled(self, record: CheckoutSession) -> bool:
        return record.fulfilled_at is not None

    def get_failed(self, record: CheckoutSession) -> bool:
        return record.failed_at is not None


class PriceListApi(APIView):
    """What can be bought (the price keys ``POST /api/payments/session/`` accepts)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PriceListOutput"

        enabled = serializers.BooleanField()
        prices = serializers.ListField(child=serializers.DictField())

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request) -> Response:
        prices = [
            {
                "price_key": price.key,
                "mode": price.mode,
                "plan": price.plan,
                "credits_usd": str(price.credits_usd) if price.credits_usd else None,
                # Minor units as Stripe gives them (1200 = $12.00); null when unreadable.
                "amount": catalogue.price_display(price),
            }
            for price in catalogue.prices().values()
        ]
        return Response({"enabled": stripe_enabled(), "prices": prices})


class CheckoutSessionCreateApi(APIView):
    permission_classes = [HasAccount]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CheckoutSessionCreateInput"

        price_key = serializers.CharField(max_length=64)

    @extend_schema(request=InputSerializer, responses={201: CheckoutSessionSerializer})
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        record = checkout.checkout_session_create(
            account=account_of(request),
            price_key=body.validated_data["price_key"],
            attempt_key=request.headers.get("Idempotency-Key"),
        )
        return Response(CheckoutSessionSerializer(record).data, status=status.HTTP_201_CREATED)


class CheckoutSessionSyncApi(APIView):
    """The success page's call: re-read the session from Stripe and fulfil it if paid."""

    permission_classes = [HasAccount]

    class OutputSerializer(CheckoutSessionSerializer):
        class Meta:
            ref_name = "CheckoutSessionSyncOutput"

        plan = serializers.CharField()
        credits_usd = serializers.CharField()

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request, session_id: str) -> Response:
        account = account_of(request)
        record = checkout.checkout_session_sync(account=account, stripe_session_id=session_id)
        account.refresh_from_db(fields=["plan"])
        payload: dict[str, Any] = {
            **CheckoutSessionSerializer(record).data,
            "plan": account.plan,
            "credits_usd": str(selectors.credit_balance(account=account)),
        }
        return Response(payload)


class PortalSessionApi(APIView):
    permission_classes = [HasAccount]

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PortalSessionOutput"

        url = serializers.CharField()

    @extend_schema(request=None, responses={201: OutputSerializer})
    def post(self, request: Request) -> Response:
        url = checkout.portal_session_create(account=account_of(request))
        return Response({"url": url}, status=status.HTTP_201_CREATED)


class CreditsApi(APIView):
    permission_classes = [HasAccount]

    class EntrySerializer(serializers.ModelSerializer):
        class Meta:
            model = CreditEntry
            fields = ["kind", "amount_usd", "note", "created_at"]
            ref_name = "CreditEntry"

    @extend_schema(responses={200: EntrySerializer(many=True)})
    def get(self, request: Request) -> Response:
        from rest_framework.pagination import PageNumberPagination

        account = account_of(request)
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            CreditEntry.objects.filter(account=account), request, view=self
        )
        response = paginator.get_paginated_response(self.EntrySerializer(page, many=True).data)
        response.data["balance_usd"] = str(selectors.credit_balance(account=account))
        return response


class StripeWebhookApi(APIView):
    """Stripe's deliveries: verified over the raw body, stored, answered at once."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(request=None, responses={200: dict})
    def post(self, request: Request) -> Response:
        # The raw bytes, exactly as signed: request.data would re-encode them.
        event, first = webhook.stripe_webhook_receive(
            payload=request._request.body,
            signature=request.headers.get("Stripe-Signature"),
        )
        return Response({"received": True, "duplicate": not first, "event_id": event.event_id})
