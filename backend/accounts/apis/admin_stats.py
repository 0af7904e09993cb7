"""Totals and activity across accounts and clients, for staff."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.accounts import stats
from backend.guard.apis import IsStaffOrAdminKey


class AdminStatsApi(APIView):
    """Totals, the most active clients, recent registrations and spend per day (staff)."""

    permission_classes = [IsStaffOrAdminKey]

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "AdminStatsFilter"

        days = serializers.IntegerField(min_value=1, max_value=366, default=14)

    @extend_schema(parameters=[FilterSerializer], responses={200: dict})
    def get(self, request: Request) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        return Response(stats.admin_stats(days=filters.validated_data["days"]))
