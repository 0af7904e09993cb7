from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.tools import TOOLS_BY_NAME
from backend.clients.identity import Identity
from backend.tools import selectors, services


def identity_of(request: Request) -> Identity:
    identity = request.auth
    assert isinstance(identity, Identity)
    return identity


class ToolRunApi(APIView):
    """POST the tool's arguments (its JSON schema is in the agent's tool definition)."""

    tool_name = ""

    @extend_schema(request=dict, responses={200: dict})
    def post(self, request: Request) -> Response:
        body: Any = request.data
        if not isinstance(body, dict):
            from backend.core.errors import ValidationError

            raise ValidationError("The body must be a JSON object of the tool's arguments.")
        raw_args = {key: value for key, value in body.items() if key != "model"}
        result = services.tool_run(
            name=self.tool_name,
            raw_args=raw_args,
            identity=identity_of(request),
            model_id=body.get("model"),
        )
        return Response(result)


def tool_api(name: str) -> Any:
    assert name in TOOLS_BY_NAME, name
    return ToolRunApi.as_view(tool_name=name)


class HistoryListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        tool = serializers.ChoiceField(choices=sorted(TOOLS_BY_NAME), required=False)

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        tool = serializers.CharField()
        input = serializers.JSONField()
        result = serializers.JSONField()
        created_at = serializers.DateTimeField()

    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        entries = selectors.history_list(
            client_id=identity_of(request).client_id, tool=filters.validated_data.get("tool")
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response(self.OutputSerializer(page, many=True).data)
