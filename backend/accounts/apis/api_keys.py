"""The account's API keys: list, create (the key is shown once), revoke."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts import selectors
from backend.accounts.permissions import HasAccount, account_of
from backend.accounts.services import api_keys
from backend.core.errors import NotFoundError


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
        account = account_of(request)
        key = selectors.account_api_key_get(account=account, key_id=key_id)
        if key is None:
            raise NotFoundError("No such API key.")
        revoked = api_keys.account_api_key_revoke(account=account, api_key=key)
        return Response(ApiKeySerializer(revoked).data)
