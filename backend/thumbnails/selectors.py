from __future__ import annotations

import uuid

from django.conf import settings
from django.core import signing
from django.db.models import QuerySet

from backend.core.errors import NotFoundError
from backend.thumbnails.models import Thumbnail

URL_SALT = "thumbnail-image"


def thumbnail_list(*, client_id: str) -> QuerySet[Thumbnail]:
    return Thumbnail.objects.filter(client_id=client_id).order_by("-created_at", "-id")


def thumbnail_get_for_client(*, thumbnail_id: str, client_id: str) -> Thumbnail:
    try:
        uuid.UUID(str(thumbnail_id))
    except ValueError:
        raise NotFoundError("No such thumbnail.") from None
    found = Thumbnail.objects.filter(pk=thumbnail_id, client_id=client_id).first()
    if found is None:
        raise NotFoundError("No such thumbnail.")
    return found


def image_url(thumbnail: Thumbnail) -> str:
    """A URL for the image that works in an ``<img>`` for ``THUMBNAIL_URL_TTL_S``: signed for
    this thumbnail and its owner (made when read, so stored ids never go stale)."""
    token = signing.dumps({"t": str(thumbnail.id), "c": thumbnail.client_id}, salt=URL_SALT)
    return f"/api/thumbnails/{thumbnail.id}/image/?sig={token}"


def thumbnail_for_signature(*, thumbnail_id: str, signature: str) -> Thumbnail:
    """The thumbnail a signed URL names; 404 for a bad, expired or other signature."""
    try:
        payload = signing.loads(signature, salt=URL_SALT, max_age=settings.ENV.THUMBNAIL_URL_TTL_S)
    except signing.BadSignature:
        raise NotFoundError("The image link is invalid or has expired.") from None
    if payload.get("t") != str(thumbnail_id):
        raise NotFoundError("The image link is invalid or has expired.")
    return thumbnail_get_for_client(thumbnail_id=thumbnail_id, client_id=str(payload.get("c")))
