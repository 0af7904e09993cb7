from __future__ import annotations

from typing import Any

from django.contrib.auth import login as session_login
from django.contrib.auth import logout as session_logout
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.permissions import AllowAny, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts import selectors, stats
from backend.accounts.models import Account
from backend.accounts.services import api_keys, auth, data, email_links
from backend.accounts.tokens import TokenPair
from backend.clients.authentication import CSRF_HEADER
from backend.clients.identity import TOKEN_HEADER, Identity, client_id_from_token, ip_hash
from backend.core.errors import NotFoundError, UnauthorizedError
from backend.guard.apis import IsStaffOrAdminKey


class HasAccount(BasePermission):
    """Signed in to an account: JWT access token, session cookie or the account's API key."""

    def has_permission(self, request: Request, view: Any) -> bool:
        identity = request.auth
        if isinstance(identity, Identity) and identity.account_id:
            return True
        raise UnauthorizedError(
            "Sign in to an account: send 'Authorization: Bearer <access token>' from "
            "POST /api/accounts/login/, the session cookie, or one of the account's API keys."
        )


def account_of(request: Request) -> Account:
    identity = request.auth
    assert isinstance(identity, Identity) and identity.account_id
    return selectors.account_get(account_id=identity.account_id)


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


class ApiKeySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    created_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(help_text="Shown once; only its hash is stored.")


class ApiKeyListCreateApi(APIView):
    permission_classes = [HasAccount]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ApiKeyListCreateInput"

        name = serializers.CharField(max_length=100)

    @extend_schema(responses={200: ApiKeySerializer(many=True)})
    def get(self, request: Request) -> Response:
        keys = selectors.account_api_keys(account=account_of(request))
        return Response(ApiKeySerializer(keys, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ApiKeyCreatedSerializer})
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        key, raw = api_keys.account_api_key_create(
            account=account_of(request), name=body.validated_data["name"]
        )
        payload = {**ApiKeySerializer(key).data, "key": raw}
        return Response(payload, status=status.HTTP_201_CREATED)


class ApiKeyRevokeApi(APIView):
    permission_classes = [HasAccount]

    @extend_schema(responses={200: ApiKeySerializer})
    def delete(self, request: Request, key_id: str) -> Response:
        key = selectors.account_api_key_get(account=account_of(request), key_id=key_id)
        if key is None:
            raise NotFoundError("No such API key.")
        return Response(ApiKeySerializer(api_keys.account_api_key_revoke(api_key=key)).data)


class AdminStatsApi(APIView):
    """Totals, the most active clients, recent registrations and spend per day (staff)."""

    permission_classes = [IsStaffOrAdminKey]

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AdminStatsFilter"

        days = serializers.IntegerField(min_value=1, max_value=366, default=14)

    @extend_schema(parameters=[FilterSerializer], responses={200: dict})
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return Response(stats.admin_stats(days=filters.validated_data["days"]))
