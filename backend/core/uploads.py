"""Uploaded images: the one check every endpoint that takes an image applies."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from agents.thumbnails import analysis
from backend.core.errors import ValidationError


def decoded_image_upload(upload: Any, *, field: str) -> analysis.DecodedImage:
    """``upload`` (a Django ``UploadedFile``) within ``THUMBNAIL_UPLOAD_MAX_BYTES``, decoded
    safely (``analysis.decode``: a known format, bounded pixels, no metadata kept); a 400
    naming ``field`` otherwise."""
    limit = settings.ENV.THUMBNAIL_UPLOAD_MAX_BYTES
    if upload.size > limit:
        raise ValidationError.for_field(field, f"must be at most {limit} bytes")
    try:
        return analysis.decode(upload.read())
    except analysis.ImageRejected as exc:
        raise ValidationError.for_field(field, str(exc)) from None
