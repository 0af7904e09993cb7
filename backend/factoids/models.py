import uuid

from django.db import models
from django.db.models import Q

# The kind of the runs that generate a factoid (driven by ``backend.factoids.driver``).
RUN_KIND = "factoid"


class Factoid(models.Model):
    """A short, true fact on a subject: generated for the feed or saved by the agent.

    The agent's factoids are built from the client's own channel data, so they are
    private to that client (``client_id``): never in the feed, votes, the subject choice
    or another client's duplicate check. Feed generations are public.
    """

    class Source(models.TextChoices):
        FEED = "feed", "Generated for the feed"
        CHAT = "chat", "Saved by the agent in a chat"

    class Visibility(models.TextChoices):
        PUBLIC = "public", "In the public feed"
        PRIVATE = "private", "Private to the client who saved it"

    uuid = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    subject = models.CharField(max_length=100, db_index=True)
    text = models.CharField(max_length=400)
    # SHA-256 of the normalised text (see the unique constraint below).
    text_hash = models.CharField(max_length=64)
    model = models.CharField(max_length=200)
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.FEED)
    source_video_ids = models.JSONField(default=list, blank=True)
    # Who made it; for a private factoid also the only client who may see it.
    client_id = models.CharField(max_length=64, blank=True, db_index=True)
    visibility = models.CharField(
        max_length=8, choices=Visibility.choices, default=Visibility.PUBLIC, db_index=True
    )
    run = models.ForeignKey(
        "runs.Run", null=True, blank=True, on_delete=models.SET_NULL, related_name="factoids"
    )
    hidden = models.BooleanField(default=False)
    up = models.PositiveIntegerField(default=0)
    down = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            # Exact duplicates in the feed are refused even when two generations race.
            # Private factoids are deduplicated per owner in the service instead: a
            # constraint across clients would let one client's private text block (and so
            # reveal) another's.
            models.UniqueConstraint(
                fields=["subject", "text_hash"],
                condition=Q(visibility="public"),
                name="uniq_public_factoid_text",
            )
        ]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.subject}: {self.text[:60]}"

    @property
    def score(self) -> int:
        return self.up - self.down


class FactoidVote(models.Model):
    """One client's vote on one factoid; the factoid's up/down counts aggregate these."""

    class Value(models.IntegerChoices):
        UP = 1, "up"
        DOWN = -1, "down"

    factoid = models.ForeignKey(Factoid, on_delete=models.CASCADE, related_name="votes")
    client_id = models.CharField(max_length=64)
    value = models.SmallIntegerField(choices=Value.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["factoid", "client_id"], name="uniq_factoid_vote")
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.get_value_display()} {self.factoid_id}"


class FactoidFeedback(models.Model):
    """Free-text feedback from a client, with the vote it gave at the time (if any)."""

    factoid = models.ForeignKey(Factoid, on_delete=models.CASCADE, related_name="feedback")
    client_id = models.CharField(max_length=64, db_index=True)
    vote = models.CharField(max_length=4, blank=True)  # "up", "down" or "" (no vote)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "factoid feedback"

    def __str__(self) -> str:
        return f"{self.client_id} on {self.factoid_id}: {self.text[:40]}"
