from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.thumbnails import analysis
from agents.thumbnails.compare import compare_features
from agents.tools import TOOLS_BY_NAME
from backend.channels import selectors, services
from backend.channels.models import Channel, Video
from backend.channels.thumbnail_references import MAX_REFERENCES, outlier_references
from backend.core.errors import NotFoundError, ValidationError
from backend.core.uploads import decoded_image_upload
from backend.tools.apis import identity_of
from backend.tools.services import tool_run


class ChannelOutputSerializer(serializers.ModelSerializer):
    display_name = serializers.SerializerMethodField()
    name = serializers.SerializerMethodField()
    handle = serializers.SerializerMethodField()
    primary = serializers.BooleanField(source="is_primary")

    class Meta:
        model = Channel
        fields = [
            "id",
            "external_id",
            "title",
            "display_name",
            "name",
            "handle",
            "role",
            "primary",
            "source",
            "video_count",
            "fetched_at",
        ]

    def get_display_name(self, channel: Channel) -> str | None:
        return channel.display_name or None

    def get_name(self, channel: Channel) -> str:
        return channel.display_name or channel.title

    def get_handle(self, channel: Channel) -> str | None:
        return channel.handle or None


class ChannelListPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class ChannelListApi(APIView):
    class AddSerializer(serializers.Serializer):
        channel_id = serializers.RegexField(r"^UC[A-Za-z0-9_-]{10,40}$", required=False)
        handle = serializers.RegexField(r"^@?[A-Za-z0-9._-]{3,100}$", required=False)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if bool(attrs.get("channel_id")) == bool(attrs.get("handle")):
                raise serializers.ValidationError(
                    {"channel_id": ["give exactly one of channel_id or handle"]}
                )
            return attrs

    @extend_schema(request=AddSerializer, responses={202: dict})
    def post(self, request: Request) -> Response:
        """Add (or refresh) a channel from YouTube; progress streams at ``stream_url``."""
        from backend.channels.fetch import channel_fetch_start
        from backend.runs.stream_auth import run_stream_url

        data = self.AddSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        run = channel_fetch_start(
            identity=identity_of(request),
            channel_id=data.validated_data.get("channel_id"),
            handle=data.validated_data.get("handle"),
        )
        return Response(
            {"run_id": str(run.id), "status": "queued", "stream_url": run_stream_url(run)},
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(responses={200: ChannelOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        """Your channels: own first (the primary first), then competitors, by name."""
        paginator = ChannelListPagination()
        page = paginator.paginate_queryset(
            selectors.channel_list(client_id=identity_of(request).client_id), request, view=self
        )
        return paginator.get_paginated_response(ChannelOutputSerializer(page, many=True).data)


class StrictBooleanField(serializers.BooleanField):
    """JSON ``true``/``false`` only (DRF's own also takes "yes", "on", 1 ...)."""

    def to_internal_value(self, data: Any) -> bool:
        if isinstance(data, bool):
            return data
        self.fail("invalid", input=data)
        raise AssertionError("unreachable")


class ChannelDetailApi(APIView):
    """Change a channel's role, primary or display name; delete it with its videos."""

    class InputSerializer(serializers.Serializer):
        role = serializers.ChoiceField(choices=Channel.Role.choices, required=False)
        primary = StrictBooleanField(required=False)
        display_name = serializers.CharField(
            max_length=services.DISPLAY_NAME_MAX_CHARS,
            required=False,
            allow_blank=True,
            allow_null=True,
        )

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            given = self.initial_data if isinstance(self.initial_data, dict) else {}
            unknown = sorted(set(given) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["unknown field"] for name in unknown})
            return attrs

    @extend_schema(request=InputSerializer, responses={200: ChannelOutputSerializer})
    def patch(self, request: Request, channel_id: str) -> Response:
        channel = selectors.channel_get_for_client(
            channel_id=channel_id, client_id=identity_of(request).client_id
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        updated = services.channel_update(
            channel=channel,
            role=values.get("role"),
            primary=values.get("primary"),
            # Absent: unchanged; null or "": cleared.
            display_name=(values["display_name"] or "") if "display_name" in values else None,
        )
        return Response(ChannelOutputSerializer(updated).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, channel_id: str) -> Response:
        channel = selectors.channel_get_for_client(
            channel_id=channel_id, client_id=identity_of(request).client_id
        )
        services.channel_delete(channel=channel)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChannelImportApi(APIView):
    """Import a CSV with the YouTube Data API's column names (one or several channels)."""

    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        file = serializers.FileField()
        snapshot_at = serializers.DateTimeField(required=False)

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={201: dict})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["file"]
        max_bytes = settings.ENV.CSV_IMPORT_MAX_BYTES
        if upload.size > max_bytes:
            raise ValidationError.for_field("file", f"must be at most {max_bytes} bytes")
        try:
            text = upload.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationError.for_field("file", "must be UTF-8 encoded CSV text") from None
        result = services.channel_import_csv(
            client_id=identity_of(request).client_id,
            text=text,
            filename=upload.name or "upload.csv",
            snapshot_at=data.validated_data.get("snapshot_at"),
        )
        return Response(result, status=status.HTTP_201_CREATED)


class VideoOutputSerializer(serializers.ModelSerializer):
    class Meta:
        model = Video
        fields = [
            "video_id",
            "title",
            "description",
            "tags",
            "published_at",
            "duration_seconds",
            "views",
            "likes",
            "comments",
            "thumbnail_url",
        ]


class ChannelVideosApi(APIView):
    def get(self, request: Request, channel_id: str) -> Response:
        channel = selectors.channel_get_for_client(
            channel_id=channel_id, client_id=identity_of(request).client_id
        )
        paginator = PageNumberPagination()
        paginator.page_size_query_param = "page_size"
        paginator.max_page_size = 500
        page = paginator.paginate_queryset(
            selectors.video_list(channel=channel), request, view=self
        )
        return paginator.get_paginated_response(VideoOutputSerializer(page, many=True).data)


class ChannelAnalyticsApi(APIView):
    """GET a channel's analytics through the agent's own tool (same numbers as in chat)."""

    tool_name = ""

    class FilterSerializer(serializers.Serializer):
        as_of = serializers.DateTimeField(required=False)
        shorts_max_seconds = serializers.IntegerField(required=False, min_value=1, max_value=600)
        top_n = serializers.IntegerField(required=False, min_value=0, max_value=500)

    def get(self, request: Request, channel_id: str) -> Response:
        identity = identity_of(request)
        channel = selectors.channel_get_for_client(
            channel_id=channel_id, client_id=identity.client_id
        )
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        accepted = TOOLS_BY_NAME[self.tool_name].args_schema.model_fields
        raw_args: dict[str, Any] = {"channel_id": str(channel.id)}
        # Views per day must not shrink because a stored snapshot gets older: by default
        # the analysis is as of when the statistics were observed.
        as_of = filters.validated_data.get("as_of") or channel.fetched_at
        if "as_of" in accepted:
            raw_args["as_of"] = as_of.isoformat()
        for name in ("shorts_max_seconds", "top_n"):
            if name in accepted and name in filters.validated_data:
                raw_args[name] = filters.validated_data[name]
        return Response(tool_run(name=self.tool_name, raw_args=raw_args, identity=identity))


class ChannelOutliersApi(ChannelAnalyticsApi):
    tool_name = "channel_outliers"


class ChannelUploadStreakApi(ChannelAnalyticsApi):
    tool_name = "upload_streak"


class ChannelThumbnailComparisonApi(APIView):
    """``POST`` a thumbnail (multipart ``image``): its measured features beside those of
    the channel's outlier videos' thumbnails (``channels.thumbnail_references``). The
    upload is read here and not kept."""

    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ChannelThumbnailComparisonInput"

        image = serializers.FileField()

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={200: dict})
    def post(self, request: Request, channel_id: str) -> Response:
        client_id = identity_of(request).client_id
        selectors.channel_get_for_client(channel_id=channel_id, client_id=client_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        measured = analysis.measure(
            decoded_image_upload(data.validated_data["image"], field="image")
        )
        references = async_to_sync(outlier_references)(client_id=client_id, channel_id=channel_id)
        return Response(
            {
                "channel_id": references.channel_id,
                "channel_title": references.channel_title,
                "measured": measured,
                "outliers": references.measured,
                "skipped": references.skipped,
                "comparison": compare_features(
                    measured, [ref["measured"] for ref in references.measured]
                ),
                "note": (
                    "Measured from the pixels, yours and the thumbnails of the channel's "
                    "high outliers by SmartScore (strongest first, at most "
                    f"{MAX_REFERENCES}). It says how they differ, not which is better."
                ),
            }
        )


class VideoSearchApi(APIView):
    """Search YouTube (cached, capped per client per day; statistics fetched fresh), or with
    ``scope=workspace`` your stored channels' videos by title and tags. The agent's
    ``video_search`` tool runs the same service (``backend/channels/video_search.py``)."""

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "VideoSearchFilter"

        q = serializers.CharField(max_length=200)
        max_results = serializers.IntegerField(min_value=1, max_value=50, default=25)
        scope = serializers.ChoiceField(choices=["youtube", "workspace"], default="youtube")

    class ResultSerializer(serializers.Serializer):
        class Meta:
            ref_name = "VideoSearchResult"

        video_id = serializers.CharField()
        channel_id = serializers.CharField()
        channel_title = serializers.CharField()
        title = serializers.CharField()
        published_at = serializers.DateTimeField(allow_null=True)
        duration_seconds = serializers.IntegerField(allow_null=True)
        views = serializers.IntegerField(allow_null=True)
        likes = serializers.IntegerField(allow_null=True)
        comments = serializers.IntegerField(allow_null=True)
        thumbnail_url = serializers.CharField(allow_null=True)

    @extend_schema(parameters=[FilterSerializer], responses={200: dict})
    def get(self, request: Request) -> Response:
        from backend.channels import video_search

        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        scope = filters.validated_data["scope"]
        search = (
            video_search.video_search_workspace
            if scope == "workspace"
            else video_search.video_search_youtube
        )
        found = search(
            client_id=identity_of(request).client_id,
            query=filters.validated_data["q"],
            max_results=filters.validated_data["max_results"],
        )
        source = (
            video_search.WORKSPACE_SOURCE if scope == "workspace" else video_search.YOUTUBE_SOURCE
        )
        return Response(
            {
                "source": source,
                "scope": scope,
                "query": filters.validated_data["q"],
                "results": self.ResultSerializer(found, many=True).data,
            }
        )


class ChannelCompetitorGapApi(APIView):
    """GET content gaps of a channel against competitors: the agent's ``competitor_gap``
    tool, so the numbers are the chat's. The path's channel is the base, normally the
    client's own, but any of its channels may be ("what do the others do that this one
    does not?"); ``competitors`` (repeatable, channel ids) default to every competitor-role
    channel of the client other than the base."""

    class FilterSerializer(serializers.Serializer):
        class Meta:
            ref_name = "CompetitorGapFilter"

        competitors = serializers.ListField(
            child=serializers.CharField(max_length=300), required=False, max_length=50
        )
        min_multiple = serializers.FloatField(required=False, min_value=1.5, max_value=50)
        min_age_days = serializers.IntegerField(required=False, min_value=0, max_value=365)
        limit = serializers.IntegerField(required=False, min_value=1, max_value=50)

    @extend_schema(parameters=[FilterSerializer], responses={200: dict})
    def get(self, request: Request, channel_id: str) -> Response:
        identity = identity_of(request)
        channel = selectors.channel_get_for_client(
            channel_id=channel_id, client_id=identity.client_id
        )
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        values = filters.validated_data
        raw_args: dict[str, Any] = {"channel": str(channel.id)}
        if "competitors" in values:
            competitors = []
            for ref in values["competitors"]:
                try:
                    found = selectors.channel_get_for_client(
                        channel_id=ref, client_id=identity.client_id
                    )
                except NotFoundError:
                    raise NotFoundError(
                        f"competitors: no such channel {ref!r}.",
                        details={"fields": {"competitors": [f"no such channel {ref!r}"]}},
                    ) from None
                competitors.append(found)
            if any(c.pk == channel.pk for c in competitors):
                raise ValidationError.for_field(
                    "competitors", f"{channel.title!r} is the channel being compared"
                )
            raw_args["competitors"] = [str(c.id) for c in competitors]
        for name in ("min_multiple", "min_age_days", "limit"):
            if name in values:
                raw_args[name] = values[name]
        return Response(tool_run(name="competitor_gap", raw_args=raw_args, identity=identity))
