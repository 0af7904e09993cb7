from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.runs import selectors, services
from backend.runs.models import Run
from backend.runs.stream_auth import stream_url


class RunOutputSerializer(serializers.ModelSerializer):
    stream_url = serializers.SerializerMethodField()
    usage = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = Run
        fields = [
            "id",
            "kind",
            "status",
            "attempt",
            "model",
            "session_id",
            "created_at",
            "started_at",
            "finished_at",
            "usage",
            "error",
            "result",
            "stream_url",
        ]

    def get_stream_url(self, run: Run) -> str:
        return stream_url(
            f"/api/runs/{run.id}/stream/", client_id=run.client_id, scope=f"run:{run.id}"
        )

    def get_usage(self, run: Run) -> dict:
        return {
            "input_tokens": run.input_tokens,
            "output_tokens": run.output_tokens,
            "cost_usd": str(run.cost_usd),
        }

    def get_error(self, run: Run) -> dict | None:
        if not run.error_code:
            return None
        return {"code": run.error_code, "message": run.error_message}


class RunDetailApi(APIView):
    def get(self, request: Request, run_id: str) -> Response:
        run = selectors.run_get_for_client(run_id=run_id, client_id=request.auth.client_id)  # type: ignore[union-attr]
        return Response(RunOutputSerializer(run).data)


class RunCancelApi(APIView):
    def post(self, request: Request, run_id: str) -> Response:
        run = selectors.run_get_for_client(run_id=run_id, client_id=request.auth.client_id)  # type: ignore[union-attr]
        run = services.run_cancel(run=run)
        return Response(RunOutputSerializer(run).data, status=202)
