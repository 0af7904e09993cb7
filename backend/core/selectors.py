from datetime import datetime

from backend.core.models import WorkerHeartbeat


def worker_heartbeat_latest(*, runner: str) -> datetime | None:
    latest = (
        WorkerHeartbeat.objects.filter(runner=runner)
        .order_by("-seen_at")
        .values_list("seen_at", flat=True)
        .first()
    )
    return latest
