"""Generated thumbnails, kept per client: the image file and how it was made."""

import uuid

from django.db import models
from django.utils import timezone

# What a thumbnail's owner sees of it (the API, the account export), beside its signed URL.
PUBLIC_FIELDS = (
    "id", "prompt", "title", "provider", "model", "offline", "width", "height", "size_bytes",
    "cost_usd", "attempts", "created_at",
)  # fmt: skip


class Thumbnail(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client_id = models.CharField(max_length=64, db_index=True)
    prompt = models.TextField()
    title = models.CharField(max_length=200, blank=True)
    # Which provider made it ("replicate", "pollinations", "offline") and with what model.
    provider = models.CharField(max_length=32)
    model = models.CharField(max_length=200)
    offline = models.BooleanField(default=False)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveIntegerField()
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    # The providers tried before it, in order: [{provider, ok, error, duration_ms}].
    attempts = models.JSONField(default=list)
    # Relative to the "thumbnails" storage.
    file_name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ("-created_at", "-id")
        indexes = (models.Index(fields=("client_id", "-created_at")),)

    def __str__(self) -> str:
        return f"{self.provider}:{self.id}"
