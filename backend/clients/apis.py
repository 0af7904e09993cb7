from decimal import Decimal

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.clients import services
from backend.clients.authentication import HasClient
from backend.clients.identity import Identity, ip_hash
from backend.clients.models import Client
from backend.guard import entry


class ClientCreateApi(APIView):
    """Mint an anonymous client token (also set as an HttpOnly cookie)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    class OutputSerializer(serializers.Serializer):
        client_id = serializers.UUIDField()
        token = serializers.CharField()
        plan = serializers.CharField()

    @extend_schema(request=None, responses={201: OutputSerializer})
    def post(self, request: Request) -> Response:
        hashed_ip = ip_hash(request._request)
        entry.rate_limit_client_minting(ip_hash=hashed_ip)
        client, token = services.client_create(ip_hash=hashed_ip)
        response = Response(
            self.OutputSerializer(
                {"client_id": client.id, "token": token, "plan": client.plan}
            ).data,
            status=status.HTTP_201_CREATED,
        )
        response.set_cookie(
            settings.ENV.CLIENT_TOKEN_COOKIE,
            token,
            max_age=settings.ENV.CLIENT_TOKEN_MAX_AGE_DAYS * 86_400,
            httponly=True,
            samesite="Lax",
            secure=not settings.DEBUG and request.is_secure(),
        )
        return response


class ClientMeApi(APIView):
    permission_classes = [HasClient]

    class OutputSerializer(serializers.Serializer):
        client_id = serializers.CharField()
        plan = serializers.CharField()
        via = serializers.CharField()
        api_key_id = serializers.CharField(allow_null=True)
        account_id = serializers.CharField(allow_null=True)

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request) -> Response:
        identity: Identity = request.auth  # type: ignore[assignment]
        return Response(self.OutputSerializer(identity).data)


class ClientApprovalsApi(APIView):
    """When the agent asks before a step: ``mode`` ``costly`` (a step whose worst case
    costs more than ``threshold_usd``, or that spends YouTube quota over the service's
    limit), ``always`` (every tool call) or ``never``; ``threshold_usd`` null: the default."""

    permission_classes = [HasClient]

    class Serializer(serializers.Serializer):
        mode = serializers.ChoiceField(choices=Client.Approvals.choices, required=False)
        threshold_usd = serializers.DecimalField(
            max_digits=10, decimal_places=4, min_value=Decimal(0), required=False, allow_null=True
        )

    def _body(self, client: Client) -> dict:
        threshold = client.approval_threshold_usd
        return {
            "mode": client.approvals,
            "threshold_usd": str(threshold) if threshold is not None else None,
            "default_threshold_usd": str(settings.ENV.APPROVAL_THRESHOLD_USD),
        }

    def get(self, request: Request) -> Response:
        identity: Identity = request.auth  # type: ignore[assignment]
        return Response(self._body(services.client_get(client_id=identity.client_id)))

    def put(self, request: Request) -> Response:
        identity: Identity = request.auth  # type: ignore[assignment]
        data = self.Serializer(data=request.data)
        data.is_valid(raise_exception=True)
        client = services.client_approvals_set(
            client_id=identity.client_id,
            mode=data.validated_data.get("mode"),
            threshold_usd=data.validated_data.get("threshold_usd", ...),
        )
        return Response(self._body(client))
