from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.http import FileResponse, HttpRequest, HttpResponseBase
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.thumbnails import analysis
from backend.clients.identity import Identity
from backend.core.errors import NotFoundError, ValidationError, error_response
from backend.thumbnails import selectors, services
from backend.thumbnails.models import PUBLIC_FIELDS, Thumbnail


def _identity(request: Request) -> Identity:
    identity = request.auth
    assert isinstance(identity, Identity)
    return identity


class ThumbnailOutputSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = Thumbnail
        fields = (*PUBLIC_FIELDS, "url")

    def get_url(self, thumbnail: Thumbnail) -> str:
        return selectors.image_url(thumbnail)


class ThumbnailListApi(APIView):
    """``GET``: your thumbnails, newest first (paginated). ``POST``: make new ones."""

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ThumbnailGenerateInput"

        prompt = serializers.CharField(max_length=services.MAX_PROMPT_CHARS)
        title = serializers.CharField(
            max_length=services.MAX_TITLE_CHARS, required=False, allow_blank=True, default=""
        )
        count = serializers.IntegerField(
            min_value=1,
            max_value=services.MAX_COUNT,
            required=False,
            default=services.DEFAULT_COUNT,
        )

    @extend_schema(responses={200: ThumbnailOutputSerializer(many=True)})
    def get(self, request: Request) -> Response:
        paginator = PageNumberPagination()
        rows = selectors.thumbnail_list(client_id=_identity(request).client_id)
        page = paginator.paginate_queryset(rows, request, view=self)
        return paginator.get_paginated_response(ThumbnailOutputSerializer(page, many=True).data)

    @extend_schema(request=InputSerializer, responses={201: ThumbnailOutputSerializer(many=True)})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        made = async_to_sync(services.thumbnails_generate)(
            identity=_identity(request),
            prompt=data.validated_data["prompt"],
            title=data.validated_data["title"],
            count=data.validated_data["count"],
        )
        body: dict[str, Any] = {"results": ThumbnailOutputSerializer(made, many=True).data}
        return Response(body, status=status.HTTP_201_CREATED)


class ThumbnailDetailApi(APIView):
    @extend_schema(responses={200: ThumbnailOutputSerializer})
    def get(self, request: Request, thumbnail_id: str) -> Response:
        thumbnail = selectors.thumbnail_get_for_client(
            thumbnail_id=thumbnail_id, client_id=_identity(request).client_id
        )
        return Response(ThumbnailOutputSerializer(thumbnail).data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, thumbnail_id: str) -> Response:
        thumbnail = selectors.thumbnail_get_for_client(
            thumbnail_id=thumbnail_id, client_id=_identity(request).client_id
        )
        services.thumbnail_delete(thumbnail=thumbnail)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ThumbnailAnalyseApi(APIView):
    """``POST`` an image (multipart ``image``): its measured features. The pixels are read
    here and not kept (EXIF and other metadata are dropped with the upload)."""

    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ThumbnailAnalyseInput"

        image = serializers.FileField()

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={200: dict})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        upload = data.validated_data["image"]
        limit = settings.ENV.THUMBNAIL_UPLOAD_MAX_BYTES
        if upload.size > limit:
            raise ValidationError.for_field("image", f"must be at most {limit} bytes")
        try:
            decoded = analysis.decode(upload.read())
        except analysis.ImageRejected as exc:
            raise ValidationError.for_field("image", str(exc)) from None
        return Response(
            {
                "measured": analysis.measure(decoded),
                "critique": None,
                "note": (
                    "Measured locally from the pixels (colours, brightness, contrast, an "
                    "estimate of the text and detail area, shape and size). No model looked "
                    "at this image: a vision model's tags and critique are not built yet."
                ),
            }
        )


def thumbnail_image(request: HttpRequest, thumbnail_id: str) -> HttpResponseBase:
    """``GET /api/thumbnails/{id}/image/?sig=…``: the PNG, to whoever holds the signed URL
    (an ``<img>`` sends no token); 404 for a bad or expired signature."""
    try:
        thumbnail = selectors.thumbnail_for_signature(
            thumbnail_id=thumbnail_id, signature=request.GET.get("sig", "")
        )
        handle = services.storage().open(thumbnail.file_name, "rb")
    except FileNotFoundError:
        return error_response(NotFoundError("The image file is gone."))
    except NotFoundError as exc:
        return error_response(exc)
    response = FileResponse(handle, content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response
