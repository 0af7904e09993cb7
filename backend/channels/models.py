import uuid

from django.db import models


class Channel(models.Model):
    """A creator's channel as the client imported or fetched it; private to that client."""

    class Source(models.TextChoices):
        IMPORT = "import", "Imported CSV"
        YOUTUBE = "youtube", "YouTube Data API"

    class Role(models.TextChoices):
        OWN = "own", "Own channel"
        COMPETITOR = "competitor", "Competitor"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    client_id = models.CharField(max_length=64, db_index=True)
    # The YouTube channel id, or one derived from the title when an export has none.
    external_id = models.CharField(max_length=100)
    # The title as the source last gave it (a re-import refreshes it) and the client's
    # own name for the channel (never touched by a re-import).
    title = models.CharField(max_length=300)
    display_name = models.CharField(max_length=100, blank=True, default="")
    # "@handle" when the source knows it (the Data API's customUrl).
    handle = models.CharField(max_length=100, blank=True, default="")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.COMPETITOR)
    # The own channel that "my channel" means; at most one per client.
    is_primary = models.BooleanField(default=False)
    source = models.CharField(max_length=16, choices=Source.choices)
    video_count = models.PositiveIntegerField(default=0)
    # When the statistics were observed (fetch time, or the import's snapshot_at).
    fetched_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["client_id", "external_id"], name="uniq_client_channel"
            ),
            models.UniqueConstraint(
                fields=["client_id"],
                condition=models.Q(is_primary=True),
                name="uniq_client_primary_channel",
            ),
            models.CheckConstraint(
                condition=~models.Q(is_primary=True) | models.Q(role="own"),
                name="primary_channel_is_own",
            ),
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
    # The best thumbnail the source gave (the Data API's, or a CSV's thumbnail column).
    thumbnail_url = models.URLField(max_length=500, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "video_id"], name="uniq_channel_video")
        ]
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return self.title
