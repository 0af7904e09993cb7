from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.clients.identity import Identity
from backend.factoids import selectors, services
from backend.factoids.serializers import FactoidOutputSerializer, factoid_payload
from backend.guard.apis import IsStaffOrAdminKey
from backend.llm.selectors import default_model_id, model_price
from backend.runs.models import Run
from backend.runs.stream_auth import stream_url

# A factoid request's status, from its run's.
REQUEST_STATUS: dict[str, str] = {
    Run.Status.QUEUED: "pending",
    Run.Status.RUNNING: "running",
    Run.Status.COMPLETED: "succeeded",
    Run.Status.FAILED: "failed",
    Run.Status.CANCELLED: "failed",
    Run.Status.WAITING: "pending",
}


def _identity(request: Request) -> Identity:
    identity = request.auth
    assert isinstance(identity, Identity)
    return identity


def _validate_model(value: str) -> None:
    if model_price(model_id=value) is None:
        raise serializers.ValidationError(f"unknown model or no known price: {value!r}")


def factoid_stream_url(run: Run) -> str:
    return stream_url(
        f"/api/factoids/streams/{run.id}/", client_id=run.client_id, scope=f"run:{run.id}"
    )


class FactoidListApi(APIView):
    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FactoidListFilter"

        subject = serializers.CharField(max_length=services.MAX_SUBJECT_CHARS, required=False)
        min_score = serializers.IntegerField(required=False)
        ordering = serializers.ChoiceField(
            choices=["-created_at", "-score"], required=False, default="-created_at"
        )
        # "private": your own private factoids (the agent's, from your channels) instead.
        mine = serializers.ChoiceField(choices=["private"], required=False)

    @extend_schema(
        parameters=[FilterSerializer], responses={200: FactoidOutputSerializer(many=True)}
    )
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        subject = filters.validated_data.get("subject")
        factoids = selectors.factoid_list(
            client_id=_identity(request).client_id,
            subject=services.subject_clean(subject) if subject is not None else None,
            min_score=filters.validated_data.get("min_score"),
            ordering=filters.validated_data["ordering"],
            private=filters.validated_data.get("mine") == "private",
        )
        paginator = PageNumberPagination()
        page = paginator.paginate_queryset(factoids, request, view=self)
        return paginator.get_paginated_response(FactoidOutputSerializer(page, many=True).data)


class FactoidGenerateApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FactoidGenerateInput"

        subject = serializers.CharField(
            max_length=services.MAX_SUBJECT_CHARS, required=False, allow_blank=True
        )
        model = serializers.CharField(max_length=200, required=False, validators=[_validate_model])

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FactoidGenerateOutput"

        request_id = serializers.UUIDField()
        status = serializers.CharField()
        subject = serializers.CharField()
        stream_url = serializers.CharField()

    @extend_schema(request=InputSerializer, responses={202: OutputSerializer})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = services.factoid_generate_request(
            identity=_identity(request),
            model_id=data.validated_data.get("model") or default_model_id(),
            subject=data.validated_data.get("subject"),
        )
        return Response(
            self.OutputSerializer(
                {
                    "request_id": run.id,
                    "status": REQUEST_STATUS[run.status],
                    "subject": run.input["subject"],
                    "stream_url": factoid_stream_url(run),
                }
            ).data,
            status=status.HTTP_202_ACCEPTED,
        )


class FactoidRequestDetailApi(APIView):
    @extend_schema(responses={200: dict})
    def get(self, request: Request, request_id: str) -> Response:
        run = selectors.factoid_request_get_for_client(
            request_id=request_id, client_id=_identity(request).client_id
        )
        factoid = selectors.factoid_for_run(run_id=str(run.id))
        body: dict[str, Any] = {
            "request_id": str(run.id),
            "status": REQUEST_STATUS[run.status],
            "subject": run.input.get("subject"),
            "model": run.model,
            "factoid": factoid_payload(factoid) if factoid is not None else None,
            "usage": {"input_tokens": run.input_tokens, "output_tokens": run.output_tokens},
            "cost_usd": str(run.cost_usd),
            "error": {"code": run.error_code, "message": run.error_message}
            if run.error_code
            else None,
            "created_at": run.created_at,
            "finished_at": run.finished_at,
            "stream_url": factoid_stream_url(run),
        }
        return Response(body)


class FactoidVoteApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FactoidVoteInput"

        vote = serializers.ChoiceField(choices=["up", "down", "none"])

    @extend_schema(request=InputSerializer, responses={200: FactoidOutputSerializer})
    def post(self, request: Request, factoid_uuid: str) -> Response:
        factoid = selectors.factoid_get_visible(factoid_uuid=factoid_uuid)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = services.factoid_vote(
            factoid=factoid,
            client_id=_identity(request).client_id,
            vote=data.validated_data["vote"],
        )
        return Response(factoid_payload(outcome.factoid, my_vote=outcome.vote))


class FactoidFeedbackApi(APIView):
    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FactoidFeedbackInput"

        text = serializers.CharField(max_length=services.MAX_FEEDBACK_CHARS)
        vote = serializers.ChoiceField(choices=["up", "down", "none"], required=False)

    class OutputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "FactoidFeedbackOutput"

        id = serializers.IntegerField()
        factoid = serializers.UUIDField(source="factoid.uuid")
        text = serializers.CharField()
        vote = serializers.CharField()
        created_at = serializers.DateTimeField()

    @extend_schema(request=InputSerializer, responses={201: OutputSerializer})
    def post(self, request: Request, factoid_uuid: str) -> Response:
        factoid = selectors.factoid_get_visible(factoid_uuid=factoid_uuid)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        feedback = services.factoid_feedback_create(
            factoid=factoid,
            client_id=_identity(request).client_id,
            text=data.validated_data["text"],
            vote=data.validated_data.get("vote"),
        )
        return Response(self.OutputSerializer(feedback).data, status=status.HTTP_201_CREATED)


class FactoidAdminHideApi(APIView):
    permission_classes = [IsStaffOrAdminKey]

    @extend_schema(request=None, responses={200: dict})
    def post(self, request: Request, factoid_uuid: str) -> Response:
        factoid = services.factoid_hide(
            factoid=selectors.factoid_get(factoid_uuid=factoid_uuid), hidden=True
        )
        return Response({"uuid": str(factoid.uuid), "hidden": factoid.hidden})
