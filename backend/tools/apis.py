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
from backend.tools.models import HistoryEntry


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


class HistoryPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 100


class HistoryOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = HistoryEntry
        ref_name = "HistoryEntryOutput"
        fields = [
            "id",
            "tool",
            "source",
            "input",
            "result",
            "run_id",
            "session_id",
            "call_id",
            "created_at",
        ]


class HistoryListApi(APIView):
    """Your generated results, newest first: REST tool calls (``api``) and every successful
    tool call of your chat runs (``chat``)."""

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "HistoryListFilter"

        tool = serializers.ChoiceField(choices=sorted(TOOLS_BY_NAME), required=False)
        # (DRF takes declared fields off the class; the stubs see Field.source.)
        source = serializers.ChoiceField(  # type: ignore[assignment]
            choices=HistoryEntry.Source.values, required=False
        )
        page = serializers.IntegerField(min_value=1, required=False)
        page_size = serializers.IntegerField(
            min_value=1, max_value=HistoryPagination.max_page_size, required=False
        )

    @extend_schema(
        parameters=[FilterSerializer], responses={200: HistoryOutputSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        entries = selectors.history_list(
            client_id=identity_of(request).client_id,
            tool=filters.validated_data.get("tool"),
            source=filters.validated_data.get("source"),
        )
        paginator = HistoryPagination()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response(HistoryOutputSerializer(page, many=True).data)


class HistoryDetailApi(APIView):
    @extend_schema(responses={200: HistoryOutputSerializer})
    def get(self, request: Request, entry_id: int) -> Response:
        entry = selectors.history_get_for_client(
            entry_id=entry_id, client_id=identity_of(request).client_id
        )
        return Response(HistoryOutputSerializer(entry).data)
