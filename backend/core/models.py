from django.db import models


class WorkerHeartbeat(models.Model):
    """The last time each task executor ran the heartbeat job; /healthz reads it."""

    hostname = models.CharField(max_length=255, unique=True)
    runner = models.CharField(max_length=16)  # "celery" or "thread"
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.hostname} @ {self.seen_at.isoformat()}"
