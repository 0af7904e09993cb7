"""The signed-in account: read it, delete it, export everything stored about it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout as session_logout
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts import selectors
from backend.accounts.models import Account
from backend.accounts.permissions import HasAccount, account_of
from backend.accounts.services import data
from backend.clients.identity import Identity


class AccountSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    plan = serializers.CharField()
    email_verified = serializers.SerializerMethodField()
    client_id = serializers.UUIDField()
    credits_usd = serializers.SerializerMethodField()
    limits = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_email_verified(self, account: Account) -> bool:
        return account.email_verified_at is not None

    def get_credits_usd(self, account: Account) -> str:
        from backend.payments.selectors import credit_balance

        return str(credit_balance(account=account))

    def get_limits(self, account: Account) -> dict[str, Any]:
        return selectors.account_limits(account=account)


class MeApi(APIView):
    permission_classes = [HasAccount]

    class DeleteSerializer(serializers.Serializer):
        class Meta:
            ref_name = "MeDelete"

        password = serializers.CharField(trim_whitespace=False)

    @extend_schema(responses={200: AccountSerializer})
    def get(self, request: Request) -> Response:
        return Response(AccountSerializer(account_of(request)).data)

    @extend_schema(request=DeleteSerializer, responses={204: None})
    def delete(self, request: Request) -> Response:
        """Delete the account and everything stored about it (the password confirms)."""
        body = self.DeleteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        identity: Identity = request.auth  # type: ignore[assignment]
        data.account_delete(account=account_of(request), password=body.validated_data["password"])
        if identity.via == "session":
            session_logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportApi(APIView):
    permission_classes = [HasAccount]

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        account = account_of(request)
        response = Response(data.account_export(account=account))
        response["Content-Disposition"] = (
            f'attachment; filename="insightstream-account-{account.id}.json"'
        )
        return response
