from django.db import models
from django.db.models import Q


class HistoryEntry(models.Model):
    """Every generated tool result, kept for the client who asked: REST tool calls and
    every successful tool call of a chat run (once per call, however often it ran)."""

    class Source(models.TextChoices):
        CHAT = "chat", "A chat run's tool call"
        API = "api", "A REST tool call"

    client_id = models.CharField(max_length=64, db_index=True)
    tool = models.CharField(max_length=64, db_index=True)
    input = models.JSONField()
    result = models.JSONField()
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.API)
    # A chat call's run, session and tool call id (empty for REST calls).
    run_id = models.UUIDField(null=True, blank=True)
    session_id = models.UUIDField(null=True, blank=True)
    call_id = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "history entries"
        constraints = [
            # A resumed run (worker killed mid-run) may report a call again: kept once.
            models.UniqueConstraint(
                fields=["run_id", "call_id"],
                condition=Q(run_id__isnull=False),
                name="uniq_history_run_call",
            )
        ]
        indexes = [models.Index(fields=["client_id", "-created_at"], name="history_client_newest")]

    def __str__(self) -> str:
        return f"{self.tool} @ {self.created_at:%Y-%m-%d %H:%M}"
