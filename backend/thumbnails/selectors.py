from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.files.storage import storages
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
    """A URL for the image that works in an ``<img>`` for ``THUMBNAIL_URL_TTL_S`` (made when
    read, so stored ids never go stale): the object store's presigned URL when the storage
    makes them, else our own endpoint's, signed for this thumbnail and its owner."""
    return presigned_image_url(thumbnail) or own_image_url(thumbnail)


def own_image_url(thumbnail: Thumbnail) -> str:
    token = signing.dumps({"t": str(thumbnail.id), "c": thumbnail.client_id}, salt=URL_SALT)
    return f"/api/thumbnails/{thumbnail.id}/image/?sig={token}"


def presigned_image_url(thumbnail: Thumbnail) -> str | None:
    """The storage's own signed URL for the image, expiring after ``THUMBNAIL_URL_TTL_S``;
    None with a storage that makes none (the filesystem), or without the file's name (a
    row read without it, as the account export does: our endpoint then finds it)."""
    files: Any = storages["thumbnails"]
    if not thumbnail.file_name or not _presigns(files):
        return None
    return str(files.url(thumbnail.file_name, expire=settings.ENV.THUMBNAIL_URL_TTL_S))


def _presigns(files: Any) -> bool:
    """Whether ``files.url()`` is signed and expiring: django-storages' S3Storage with
    querystring auth, unless a custom domain without a CloudFront signer makes it plain."""
    if not getattr(files, "querystring_auth", False):
        return False
    return not getattr(files, "custom_domain", None) or bool(
        getattr(files, "cloudfront_signer", None)
    )


def thumbnail_for_signature(*, thumbnail_id: str, signature: str) -> Thumbnail:
    """The thumbnail a signed URL names; 404 for a bad, expired or other signature."""
    try:
        payload = signing.loads(signature, salt=URL_SALT, max_age=settings.ENV.THUMBNAIL_URL_TTL_S)
    except signing.BadSignature:
        raise NotFoundError("The image link is invalid or has expired.") from None
    if payload.get("t") != str(thumbnail_id):
        raise NotFoundError("The image link is invalid or has expired.")
    return thumbnail_get_for_client(thumbnail_id=thumbnail_id, client_id=str(payload.get("c")))
