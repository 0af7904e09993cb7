"""What the emailed links do: verify the address (and send the link again), reset the
password."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.apis.account import AccountSerializer
from backend.accounts.permissions import HasAccount, account_of
from backend.accounts.services import auth, email_links
from backend.clients.identity import ip_hash


class VerifyEmailApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "VerifyEmailInput"

        uid = serializers.CharField(max_length=64)
        token = serializers.CharField(max_length=128)

    @extend_schema(request=InputSerializer, responses={200: AccountSerializer})
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        account = email_links.email_verify(**body.validated_data)
        return Response(AccountSerializer(account).data)


class VerifyEmailResendApi(APIView):
    permission_classes = [HasAccount]

    @extend_schema(request=None, responses={202: None})
    def post(self, request: Request) -> Response:
        email_links.email_verification_send(account=account_of(request))
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetApi(APIView):
    """Mail a reset link; the answer is the same whether or not the address has an account."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PasswordResetInput"

        email = serializers.EmailField(max_length=254)

    @extend_schema(request=InputSerializer, responses={202: None})
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        auth.throttle(
            key=f"reset:ip:{ip_hash(request._request)}",
            limit_per_minute=5,
            what="password reset requests from your network",
        )
        email_links.password_reset_request(email=body.validated_data["email"])
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "PasswordResetConfirmInput"

        uid = serializers.CharField(max_length=64)
        token = serializers.CharField(max_length=128)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    @extend_schema(request=InputSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        email_links.password_reset_confirm(**body.validated_data)
        return Response(status=status.HTTP_204_NO_CONTENT)
