"""Extra routes for exercising the error handling of plain Django and DRF views."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("kaboom: secret internals")


class EchoApi(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=10)
        count = serializers.IntegerField(min_value=0)

    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(data.validated_data)


class BoomApi(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request: Request) -> Response:
        raise RuntimeError("kaboom in an API view")


class GuardDownApi(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request: Request) -> Response:
        from agents.guard import GuardUnavailableError

        raise GuardUnavailableError("budget store unreachable", details={"store": "redis"})


def guard_down(request: HttpRequest) -> HttpResponse:
    from agents.guard import GuardUnavailableError

    raise GuardUnavailableError("budget store unreachable", details={"store": "redis"})


urlpatterns = [
    path("test/guard-down", guard_down),
    path("test/api/guard-down", GuardDownApi.as_view()),
    path("test/boom", boom),
    path("test/api/echo", EchoApi.as_view()),
    path("test/api/boom", BoomApi.as_view()),
    path("", include("backend.config.urls")),
]
