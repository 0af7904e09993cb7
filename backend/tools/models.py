from django.db import models


class HistoryEntry(models.Model):
    """Every generated tool result, kept for the client who asked."""

    client_id = models.CharField(max_length=64, db_index=True)
    tool = models.CharField(max_length=64, db_index=True)
    input = models.JSONField()
    result = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "history entries"

    def __str__(self) -> str:
        return f"{self.tool} @ {self.created_at:%Y-%m-%d %H:%M}"
