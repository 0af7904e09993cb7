from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.http import FileResponse, HttpRequest, HttpResponseBase, HttpResponseRedirect
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from agents.thumbnails.vision import prepare_image
from backend.clients.identity import Identity
from backend.core.errors import NotFoundError, error_response
from backend.core.uploads import decoded_image_upload
from backend.thumbnails import selectors, services
from backend.thumbnails import vision as thumbnail_vision
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
        # Multipart only: an image the concepts should follow (Replicate takes it; the free
        # providers and the offline card ignore it). Checked and re-encoded like an upload.
        reference_image = serializers.FileField(required=False)

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
        reference = data.validated_data.get("reference_image")
        made = async_to_sync(services.thumbnails_generate)(
            identity=_identity(request),
            prompt=data.validated_data["prompt"],
            title=data.validated_data["title"],
            count=data.validated_data["count"],
            reference_image=_image_upload(reference, field="reference_image")
            if reference
            else None,
        )
        body: dict[str, Any] = {"results": ThumbnailOutputSerializer(made, many=True).data}
        return Response(body, status=status.HTTP_201_CREATED)


def _image_upload(upload: Any, *, field: str) -> bytes:
    """An uploaded image, size and type checked and decoded safely, as fresh JPEG bytes
    (nothing but the pixels: no EXIF); a 400 naming ``field`` otherwise."""
    return prepare_image(decoded_image_upload(upload, field=field)).jpeg


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
    """``POST`` an image (multipart ``image``): its measured features and, from a vision
    model, tags and a critique (``thumbnails.vision``). The pixels are read here and not
    kept (EXIF and other metadata are dropped with the upload); a refusal by the cost guard
    or a failed model call still answers 200 with the measured features."""

    parser_classes = [MultiPartParser]

    class InputSerializer(serializers.Serializer):
        class Meta:
            ref_name = "ThumbnailAnalyseInput"

        image = serializers.FileField()

    @extend_schema(request={"multipart/form-data": InputSerializer}, responses={200: dict})
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decoded = decoded_image_upload(data.validated_data["image"], field="image")
        return Response(
            thumbnail_vision.thumbnail_analyse(identity=_identity(request), decoded=decoded)
        )


def thumbnail_image(request: HttpRequest, thumbnail_id: str) -> HttpResponseBase:
    """``GET /api/thumbnails/{id}/image/?sig=…``: the PNG, to whoever holds the signed URL
    (an ``<img>`` sends no token); 404 for a bad or expired signature. With object storage
    (S3), a redirect to a fresh presigned URL instead."""
    try:
        thumbnail = selectors.thumbnail_for_signature(
            thumbnail_id=thumbnail_id, signature=request.GET.get("sig", "")
        )
        # Redirect rather than stream: the bytes then go from the object store to the
        # browser, not through a web worker's thread (reading an S3 object here would
        # download it whole first), and the link still expires with THUMBNAIL_URL_TTL_S.
        # The API hands out presigned URLs itself; this path serves links made without
        # the file's name (the account export) and ones made before S3 was configured.
        presigned = selectors.presigned_image_url(thumbnail)
        if presigned is not None:
            redirect = HttpResponseRedirect(presigned)
            # Each redirect names a URL minted now; a cached one could outlive it.
            redirect["Cache-Control"] = "private, no-store"
            return redirect
        handle = services.storage().open(thumbnail.file_name, "rb")
    except FileNotFoundError:
        return error_response(NotFoundError("The image file is gone."))
    except NotFoundError as exc:
        return error_response(exc)
    response = FileResponse(handle, content_type="image/png")
    response["Cache-Control"] = "private, max-age=300"
    response["X-Content-Type-Options"] = "nosniff"
    return response
