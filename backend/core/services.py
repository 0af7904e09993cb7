from django.utils import timezone

from backend.core.models import WorkerHeartbeat
from backend.core.task_runner import uses_celery


def worker_heartbeat_record(*, hostname: str) -> WorkerHeartbeat:
    heartbeat, _ = WorkerHeartbeat.objects.update_or_create(
        hostname=hostname,
        defaults={"seen_at": timezone.now(), "runner": "celery" if uses_celery() else "thread"},
    )
    return heartbeat
