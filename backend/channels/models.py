import uuid

from django.db import models


class Channel(models.Model):
    """A creator's channel as the client imported or fetched it; private to that client."""

    class Source(models.TextChoices):
        IMPORT = "import", "Imported CSV"
        YOUTUBE = "youtube", "YouTube Data API"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client_id = models.CharField(max_length=64, db_index=True)
    # The YouTube channel id, or one derived from the title when an export has none.
    external_id = models.CharField(max_length=100)
    title = models.CharField(max_length=300)
    source = models.CharField(max_length=16, choices=Source.choices)
    video_count = models.PositiveIntegerField(default=0)
    # When the statistics were observed (fetch time, or the import's snapshot_at).
    fetched_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client_id", "external_id"], name="uniq_client_channel")
        ]
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Video(models.Model):
    channel = models.ForeignKey(Channel, on_delete=models.CASCADE, related_name="videos")
    video_id = models.CharField(max_length=64)
    title = models.CharField(max_length=500)
    description = models.TextField(blank=True)
    tags = models.JSONField(default=list)
    published_at = models.DateTimeField()
    duration_seconds = models.PositiveIntegerField(null=True)
    views = models.BigIntegerField()
    likes = models.BigIntegerField()
    comments = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "video_id"], name="uniq_channel_video")
        ]
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return self.title
