"""Sign up, log in, refresh the tokens, log out; the anonymous client brought along joins
the account."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import login as session_login
from django.contrib.auth import logout as session_logout
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts.apis.account import AccountSerializer
from backend.accounts.models import Account
from backend.accounts.permissions import HasAccount, account_of
from backend.accounts.services import auth
from backend.accounts.tokens import TokenPair
from backend.clients.authentication import CSRF_HEADER
from backend.clients.identity import TOKEN_HEADER, Identity, client_id_from_token, ip_hash


def anonymous_client_id(request: Request) -> str | None:
    """The anonymous client the caller brings along (header or cookie), if any."""
    from django.conf import settings

    from backend.clients.models import Client

    raw = request.headers.get(TOKEN_HEADER) or request.COOKIES.get(settings.ENV.CLIENT_TOKEN_COOKIE)
    client_id = client_id_from_token(raw) if raw else None
    if client_id is None:
        return None
    found = Client.objects.filter(pk=client_id, kind=Client.Kind.ANONYMOUS).first()
    return str(found.id) if found else None


class TokensSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()
    access_expires_at = serializers.DateTimeField()
    refresh_expires_at = serializers.DateTimeField()


class SignedInSerializer(serializers.Serializer):
    account = AccountSerializer()
    tokens = TokensSerializer()


def _require_same_site_for_session(request: Request, *, session: bool) -> None:
    """A session sign-in must come from our own page: a cross-site form can post multipart
    data with the visitor's cookies (login CSRF) but cannot add a custom header."""
    if session and not request.headers.get(CSRF_HEADER):
        raise exceptions.PermissionDenied(
            f"Signing in with `session: true` needs the {CSRF_HEADER} header."
        )


def _signed_in(request: Request, account: Account, pair: TokenPair, *, session: bool) -> Any:
    if session:
        # The browser app's way: Django's session cookie; the tokens work as well.
        session_login(
            request._request, account.user, backend="django.contrib.auth.backends.ModelBackend"
        )
    return SignedInSerializer({"account": account, "tokens": pair.as_dict()}).data


class RegisterApi(APIView):
    """Sign up; the anonymous client sent along (header or cookie) joins the account."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "RegisterInput"

        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False)
        session = serializers.BooleanField(default=False)

    @extend_schema(request=InputSerializer, responses={201: SignedInSerializer})
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        _require_same_site_for_session(request, session=body.validated_data["session"])
        account, pair = auth.account_register(
            email=body.validated_data["email"],
            password=body.validated_data["password"],
            ip_hash=ip_hash(request._request),
            anonymous_client_id=anonymous_client_id(request),
        )
        payload = _signed_in(request, account, pair, session=body.validated_data["session"])
        return Response(payload, status=status.HTTP_201_CREATED)


class LoginApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LoginInput"

        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False)
        session = serializers.BooleanField(default=False)

    @extend_schema(request=InputSerializer, responses={200: SignedInSerializer})
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        _require_same_site_for_session(request, session=body.validated_data["session"])
        account, pair = auth.account_login(
            email=body.validated_data["email"],
            password=body.validated_data["password"],
            ip_hash=ip_hash(request._request),
            anonymous_client_id=anonymous_client_id(request),
        )
        return Response(_signed_in(request, account, pair, session=body.validated_data["session"]))


class TokenRefreshApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "TokenRefreshInput"

        refresh = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={200: TokensSerializer})
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(
            TokensSerializer(auth.token_refresh(refresh=body.validated_data["refresh"])).data
        )


class LogoutApi(APIView):
    permission_classes = [HasAccount]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "LogoutInput"

        refresh = serializers.CharField(required=False)

    @extend_schema(request=InputSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        identity: Identity = request.auth  # type: ignore[assignment]
        access = None
        if identity.via == "jwt":
            access = request.headers.get("Authorization", "").partition(" ")[2].strip()
        auth.account_logout(
            account=account_of(request),
            access=access,
            refresh=body.validated_data.get("refresh"),
        )
        if identity.via == "session":
            session_logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
