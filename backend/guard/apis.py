from typing import Any

from rest_framework import serializers
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.clients.identity import Identity
from backend.guard import selectors


class IsStaffOrAdminKey(BasePermission):
    message = "Staff or an admin API key only."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if user is not None and user.is_authenticated and getattr(user, "is_staff", False):
            return True
        identity = request.auth
        return isinstance(identity, Identity) and identity.is_admin


class AdminUsageApi(APIView):
    permission_classes = [IsStaffOrAdminKey]

    class FilterSerializer(serializers.Serializer):
        days = serializers.IntegerField(min_value=1, max_value=366, default=14)

    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return Response(selectors.usage_report(days=filters.validated_data["days"]))
