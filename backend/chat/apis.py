from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.chat import approvals, selectors, services
from backend.chat.models import ChatMessage, ChatSession
from backend.clients.identity import Identity
from backend.llm.selectors import default_model_id, model_price
from backend.runs.stream_auth import run_stream_url, stream_url


def _identity(request: Request) -> Identity:
    identity = request.auth
    assert isinstance(identity, Identity)
    return identity


def session_stream_url(session: ChatSession) -> str:
    return stream_url(
        f"/api/chat/sessions/{session.id}/stream/",
        client_id=session.client_id,
        scope=f"session:{session.id}",
    )


def _validate_model(value: str) -> None:
    if model_price(model_id=value) is None:
        raise serializers.ValidationError(f"unknown model or no known price: {value!r}")


class SessionOutputSerializer(serializers.ModelSerializer):
    stream_url = serializers.SerializerMethodField()

    class Meta:
        model = ChatSession
        fields = ["id", "title", "model", "created_at", "stream_url"]

    def get_stream_url(self, session: ChatSession) -> str:
        return session_stream_url(session)


class SessionListCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        model = serializers.CharField(max_length=200, required=False, validators=[_validate_model])

    @extend_schema(responses={200: SessionOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        from rest_framework.pagination import PageNumberPagination

        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(
            selectors.session_list(client_id=_identity(request).client_id), request, view=self
        )
        return paginator.get_paginated_response(SessionOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: SessionOutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.session_create(
            client_id=_identity(request).client_id,
            model=data.validated_data.get("model") or default_model_id(),
            title=data.validated_data["title"],
        )
        return Response(SessionOutputSerializer(session).data, status=status.HTTP_201_CREATED)


class MessageOutputSerializer(serializers.ModelSerializer):
    siblings = serializers.SerializerMethodField()

    class Meta:
        model = ChatMessage
        fields = [
            "id",
            "role",
            "content",
            "tool_results",
            "stopped",
            "run_id",
            "parent_id",
            "siblings",
            "created_at",
        ]

    def get_siblings(self, message: ChatMessage) -> dict:
        return getattr(message, "siblings", {"index": 1, "count": 1, "ids": [str(message.id)]})


class SessionDetailApi(APIView):
    class PatchSerializer(serializers.Serializer):
        title = serializers.CharField(max_length=200, allow_blank=False, required=False)
        webhook_url = serializers.URLField(
            max_length=500, allow_null=True, allow_blank=True, required=False
        )

        def validate(self, attrs: dict) -> dict:
            if not attrs:
                raise serializers.ValidationError({"title": ["title or webhook_url is required"]})
            return attrs

    def _session(self, request: Request, session_id: str) -> ChatSession:
        return selectors.session_get_for_client(
            session_id=session_id, client_id=_identity(request).client_id
        )

    def get(self, request: Request, session_id: str) -> Response:
        from backend.runs.apis import RunOutputSerializer

        session = self._session(request, session_id)
        transcript = selectors.session_transcript(session=session)
        return Response(
            {
                **SessionOutputSerializer(session).data,
                "messages": MessageOutputSerializer(transcript["messages"], many=True).data,
                "runs": RunOutputSerializer(transcript["runs"], many=True).data,
                "totals": transcript["totals"],
            }
        )

    def patch(self, request: Request, session_id: str) -> Response:
        session = self._session(request, session_id)
        data = self.PatchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body: dict[str, Any] = {}
        if "title" in data.validated_data:
            session = services.session_rename(session=session, title=data.validated_data["title"])
        if "webhook_url" in data.validated_data:
            secret = services.session_set_webhook(
                session=session, url=data.validated_data["webhook_url"]
            )
            body = {"webhook_url": session.webhook_url or None, "webhook_secret": secret}
        return Response({**SessionOutputSerializer(session).data, **body})

    def delete(self, request: Request, session_id: str) -> Response:
        services.session_delete(session=self._session(request, session_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageCreateApi(APIView):
    class InputSerializer(serializers.Serializer):
        content = serializers.CharField(allow_blank=True, trim_whitespace=False)
        model = serializers.CharField(max_length=200, required=False, validators=[_validate_model])
        multitask = serializers.ChoiceField(
            choices=services.MULTITASK_STRATEGIES, required=False, default="reject"
        )
        # A new version of one of your messages: the conversation forks before it.
        edit_of = serializers.UUIDField(required=False, allow_null=True, default=None)

    class OutputSerializer(serializers.Serializer):
        run_id = serializers.UUIDField()
        message_id = serializers.UUIDField()
        stream_url = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={202: OutputSerializer})
    def post(self, request: Request, session_id: str) -> Response:
        identity = _identity(request)
        session = selectors.session_get_for_client(
            session_id=session_id, client_id=identity.client_id
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run, message = services.message_post(
            session=session,
            identity=identity,
            content=data.validated_data["content"],
            model=data.validated_data.get("model"),
            multitask=data.validated_data["multitask"],
            edit_of=str(data.validated_data["edit_of"]) if data.validated_data["edit_of"] else None,
        )
        return Response(
            self.OutputSerializer(
                {"run_id": run.id, "message_id": message.id, "stream_url": run_stream_url(run)}
            ).data,
            status=status.HTTP_202_ACCEPTED,
        )


class ApprovalListApi(APIView):
    """The run's approvals (pending and answered), oldest first."""

    def get(self, request: Request, run_id: str) -> Response:
        rows = selectors.approvals_for_run(run_id=run_id, client_id=_identity(request).client_id)
        return Response({"results": [approvals.approval_data(row) for row in rows]})


class ApprovalResolveApi(APIView):
    """Answer an approval: ``approved``; ``args`` (edited, checked like the tool's own) to run
    the call with; ``reason`` (shown to the model when denied)."""

    class InputSerializer(serializers.Serializer):
        approved = serializers.BooleanField()
        args = serializers.DictField(required=False, allow_null=True, default=None)
        reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def post(self, request: Request, run_id: str, approval_id: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        approval = approvals.approval_resolve(
            identity=_identity(request),
            run_id=run_id,
            approval_id=approval_id,
            approved=data.validated_data["approved"],
            args=data.validated_data["args"],
            reason=data.validated_data["reason"],
        )
        return Response(approvals.approval_data(approval), status=status.HTTP_200_OK)


class MessageRegenerateApi(APIView):
    """Answer again: a new version of this answer (or of the answer to this question), from
    the checkpoint before its question; 202 like a message post."""

    class InputSerializer(serializers.Serializer):
        model = serializers.CharField(max_length=200, required=False, validators=[_validate_model])
        multitask = serializers.ChoiceField(
            choices=services.MULTITASK_STRATEGIES, required=False, default="reject"
        )

    def post(self, request: Request, session_id: str, message_id: str) -> Response:
        identity = _identity(request)
        session = selectors.session_get_for_client(
            session_id=session_id, client_id=identity.client_id
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run, message = services.message_post(
            session=session,
            identity=identity,
            content="",
            model=data.validated_data.get("model"),
            multitask=data.validated_data["multitask"],
            regenerate=message_id,
        )
        return Response(
            {
                "run_id": str(run.id),
                "message_id": str(message.id),
                "stream_url": run_stream_url(run),
            },
            status=status.HTTP_202_ACCEPTED,
        )


class SessionBranchApi(APIView):
    """Show another branch: ``{message_id}`` (one of the versions a message has); the
    session's current leaf becomes that version's newest descendant."""

    class InputSerializer(serializers.Serializer):
        message_id = serializers.UUIDField()

    def put(self, request: Request, session_id: str) -> Response:
        session = selectors.session_get_for_client(
            session_id=session_id, client_id=_identity(request).client_id
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        session = services.session_switch_branch(
            session=session, message_id=str(data.validated_data["message_id"])
        )
        transcript = selectors.session_transcript(session=session)
        return Response(
            {"messages": MessageOutputSerializer(transcript["messages"], many=True).data}
        )
