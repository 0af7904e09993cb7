from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.llm import selectors

PER_MILLION = selectors.PER_MILLION


class ModelListApi(APIView):
    """Usable models with context length and USD prices per million tokens."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    class OutputSerializer(serializers.Serializer):
        id = serializers.CharField(source="model_id")
        provider = serializers.CharField()
        offline = serializers.BooleanField()
        context_length = serializers.IntegerField(allow_null=True)
        input_per_million_usd = serializers.SerializerMethodField()
        output_per_million_usd = serializers.SerializerMethodField()

        def get_input_per_million_usd(self, obj) -> str:  # type: ignore[no-untyped-def]
            return str((obj.input_per_token * PER_MILLION).normalize())

        def get_output_per_million_usd(self, obj) -> str:  # type: ignore[no-untyped-def]
            return str((obj.output_per_token * PER_MILLION).normalize())

    @extend_schema(responses={200: OutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        models = selectors.catalogue_list()
        return Response(
            {
                "default": selectors.default_model_id(),
                "results": self.OutputSerializer(models, many=True).data,
            }
        )
