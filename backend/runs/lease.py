"""Who executes a run: an atomic claim with a lease kept alive by a heartbeat.

A duplicate delivery of a live run finds the lease held and exits at once; a run whose
worker died has its lease expire, and the reaper (or the broker's redelivery) hands it to
another worker, which resumes it with ``attempt`` + 1 — up to ``MAX_ATTEMPTS``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from django.db import connection, transaction
from django.db.models import Exists, F, Max, OuterRef, Q
from django.utils import timezone

from backend.runs.emitter import RunEmitter
from backend.runs.eventlog.base import TERMINAL_TYPES
from backend.runs.models import Run, RunEvent

MAX_ATTEMPTS = 3
ClaimOutcome = Literal["claimed", "busy", "finished", "waiting", "exhausted", "cancelled"]


def run_claim(*, run_id: str, worker_id: str, lease_s: float) -> tuple[ClaimOutcome, Run | None]:
    """Claim the run for ``worker_id``, or say why not. The claimed run carries
    ``last_stored_seq``: the highest seq of its events in the store (0 for none)."""
    claimed = _claim_at_once(run_id=run_id, worker_id=worker_id, lease_s=lease_s)
    if claimed is not None:
        return "claimed", claimed
    # Not claimable as it stands: find out why (and end it if it must end), under a lock.
    outcome, run = _claim_or_explain(run_id=run_id, worker_id=worker_id, lease_s=lease_s)
    if outcome == "claimed" and run is not None:
        run.last_stored_seq = last_stored_seq(str(run.pk))  # type: ignore[attr-defined]
    return outcome, run


def last_stored_seq(run_id: str) -> int:
    """The highest seq of the run's events in the store (0 for none)."""
    return RunEvent.objects.filter(run_id=run_id).aggregate(last=Max("seq"))["last"] or 0


class _RunRows:
    """``runs_run`` for the statements the ORM cannot say in one: an ``UPDATE`` that
    returns the row it changed. Only quoted names from the model are formatted into the
    SQL; every value is a parameter, prepared by its field as the ORM would."""

    def __init__(self) -> None:
        self.fields = {field.name: field for field in Run._meta.concrete_fields}
        self.table = connection.ops.quote_name(Run._meta.db_table)

    def __getitem__(self, name: str) -> str:
        return connection.ops.quote_name(str(self.fields[name].column))

    def value(self, name: str, raw: object) -> object:
        return self.fields[name].get_db_prep_save(raw, connection)

    def update(
        self, *, assign: str, where: str, params: list[object], extra: str = ""
    ) -> Run | None:
        returning = ", ".join(f"{self.table}.{self[name]}" for name in self.fields)
        sql = f"UPDATE {self.table} SET {assign} WHERE {where} RETURNING {returning}{extra}"  # noqa: S608
        found = list(Run.objects.raw(sql, params))
        return found[0] if found else None


def _claim_at_once(*, run_id: str, worker_id: str, lease_s: float) -> Run | None:
    """The claim as one statement, for a run that may start now: queued, or running on a
    lease that ran out, not cancelled, attempts left, and no earlier run of its session
    still to go (the checks of ``_claim_or_explain``, in its ``WHERE``). Returns the run
    as claimed, with the highest stored seq of its events, or None when it may not."""
    now = timezone.now()
    rows = _RunRows()
    t, c = rows.table, rows
    events = connection.ops.quote_name(RunEvent._meta.db_table)
    running = rows.value("status", Run.Status.RUNNING)
    run = rows.update(
        assign=f"""
            {c["status"]} = %s, {c["attempt"]} = {c["attempt"]} + 1, {c["lease_owner"]} = %s,
            {c["lease_expires_at"]} = %s, {c["started_at"]} = COALESCE({c["started_at"]}, %s)
        """,
        where=f"""
            {c["id"]} = %s AND {c["cancel_requested"]} = %s AND {c["attempt"]} < %s
            AND ({c["status"]} = %s OR ({c["status"]} = %s
                 AND ({c["lease_expires_at"]} IS NULL OR {c["lease_expires_at"]} <= %s)))
            AND ({c["session_id"]} IS NULL OR NOT EXISTS (
                SELECT 1 FROM {t} AS other
                WHERE other.{c["session_id"]} = {t}.{c["session_id"]}
                  AND other.{c["id"]} <> {t}.{c["id"]}
                  AND ((other.{c["status"]} = %s AND other.{c["lease_expires_at"]} > %s)
                       OR (other.{c["status"]} IN (%s, %s)
                           AND other.{c["ordinal"]} < {t}.{c["ordinal"]}))))
        """,  # noqa: S608
        extra=f""", (SELECT MAX(e.seq) FROM {events} AS e WHERE e.run_id = {t}.{c["id"]})
            AS last_stored_seq""",  # noqa: S608
        params=[
            running,
            worker_id,
            rows.value("lease_expires_at", now + timedelta(seconds=lease_s)),
            rows.value("started_at", now),
            rows.value("id", run_id),
            False,
            MAX_ATTEMPTS,
            rows.value("status", Run.Status.QUEUED),
            running,
            rows.value("lease_expires_at", now),
            running,
            rows.value("lease_expires_at", now),
            rows.value("status", Run.Status.QUEUED),
            rows.value("status", Run.Status.WAITING),
        ],
    )
    if run is not None:
        run.last_stored_seq = getattr(run, "last_stored_seq", None) or 0  # type: ignore[attr-defined]
    return run


def _claim_or_explain(
    *, run_id: str, worker_id: str, lease_s: float
) -> tuple[ClaimOutcome, Run | None]:
    with transaction.atomic():
        run = Run.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.is_finished:
            return "finished", run
        now = timezone.now()
        if run.status == Run.Status.RUNNING and run.lease_expires_at and run.lease_expires_at > now:
            return "busy", run
        if run.status == Run.Status.WAITING:
            return "waiting", run  # parked by its driver until it is resumed
        if (
            run.session_id
            and Run.objects.filter(session_id=run.session_id)
            .filter(
                Q(status=Run.Status.RUNNING, lease_expires_at__gt=now)
                | Q(status__in=(Run.Status.QUEUED, Run.Status.WAITING), ordinal__lt=run.ordinal)
            )
            .exclude(pk=run.pk)
            .exists()
        ):
            return "waiting", run  # strict order: it is started when the earlier run ends
        if run.cancel_requested:
            _end(run, status=Run.Status.CANCELLED, code="CANCELLED", message="cancelled")
            transaction.on_commit(
                lambda: RunEmitter(run_id=run_id, attempt=max(1, run.attempt)).emit(
                    "run.cancelled", {"reason": "cancelled before it started"}
                )
            )
            return "cancelled", run
        if run.attempt >= MAX_ATTEMPTS:
            _end(
                run,
                status=Run.Status.FAILED,
                code="INTERNAL_ERROR",
                message=f"The run was interrupted {run.attempt} times and will not be retried.",
            )
            attempt = run.attempt
            transaction.on_commit(
                lambda: RunEmitter(run_id=run_id, attempt=attempt).emit(
                    "run.failed",
                    {"error": {"code": "INTERNAL_ERROR", "message": run.error_message}},
                )
            )
            return "exhausted", run
        run.status = Run.Status.RUNNING
        run.attempt += 1
        run.lease_owner = worker_id
        run.lease_expires_at = now + timedelta(seconds=lease_s)
        run.started_at = run.started_at or now
        run.save(
            update_fields=["status", "attempt", "lease_owner", "lease_expires_at", "started_at"]
        )
        return "claimed", run


def _end(run: Run, *, status: str, code: str = "", message: str = "") -> None:
    run.status = status
    run.error_code = code
    run.error_message = message
    run.finished_at = timezone.now()
    run.lease_expires_at = None
    run.save(
        update_fields=["status", "error_code", "error_message", "finished_at", "lease_expires_at"]
    )


def run_heartbeat(*, run_id: str, worker_id: str, lease_s: float) -> tuple[bool, bool]:
    """Extend our lease; returns (still ours, cancel requested)."""
    updated = Run.objects.filter(
        pk=run_id, status=Run.Status.RUNNING, lease_owner=worker_id
    ).update(lease_expires_at=timezone.now() + timedelta(seconds=lease_s))
    cancel = Run.objects.filter(pk=run_id, cancel_requested=True).exists()
    return bool(updated), cancel


def run_give_back(*, run_id: str, worker_id: str) -> bool:
    """End our lease now without an outcome: the reaper gives the run to the next attempt."""
    return bool(
        Run.objects.filter(pk=run_id, status=Run.Status.RUNNING, lease_owner=worker_id).update(
            lease_expires_at=timezone.now()
        )
    )


def run_end(
    *,
    run_id: str,
    worker_id: str,
    status: str,
    code: str = "",
    message: str = "",
    result: dict | None = None,
) -> Run | None:
    """Record the outcome if we still hold the run; returns the run as recorded, or None
    if we no longer held it (one statement). The run carries ``session_runs_left``: how
    many other runs of its session were still to go (queued, running or waiting) as it
    ended; with none, there is no next run to start."""
    rows = _RunRows()
    t, c = rows.table, rows
    active = ", ".join(["%s"] * len(Run.ACTIVE))
    return rows.update(
        assign=f"""
            {c["status"]} = %s, {c["error_code"]} = %s, {c["error_message"]} = %s,
            {c["result"]} = %s, {c["finished_at"]} = %s, {c["lease_expires_at"]} = NULL
        """,
        where=f"{c['id']} = %s AND {c['status']} = %s AND {c['lease_owner']} = %s",
        extra=f""", (SELECT COUNT(*) FROM {t} AS other
            WHERE other.{c["session_id"]} = {t}.{c["session_id"]}
              AND other.{c["id"]} <> {t}.{c["id"]} AND other.{c["status"]} IN ({active})
        ) AS session_runs_left""",  # noqa: S608
        params=[
            rows.value("status", status),
            rows.value("error_code", code),
            rows.value("error_message", message),
            rows.value("result", result),
            rows.value("finished_at", timezone.now()),
            rows.value("id", run_id),
            rows.value("status", Run.Status.RUNNING),
            worker_id,
            *(rows.value("status", value) for value in Run.ACTIVE),
        ],
    )


def run_park(*, run_id: str, worker_id: str) -> bool:
    """Park the run we hold as waiting: lease released, and the attempt handed back so
    the claim that resumes it continues the same attempt (waiting is not a retry)."""
    updated = Run.objects.filter(
        pk=run_id, status=Run.Status.RUNNING, lease_owner=worker_id
    ).update(
        status=Run.Status.WAITING,
        lease_owner="",
        lease_expires_at=None,
        attempt=F("attempt") - 1,
    )
    return bool(updated)


def runs_with_expired_lease() -> list[str]:
    return [
        str(run_id)
        for run_id in Run.objects.filter(
            status=Run.Status.RUNNING, lease_expires_at__lt=timezone.now()
        ).values_list("id", flat=True)
    ]


def runs_ended_unannounced(
    *, grace_s: float, within_s: float = 86_400, limit: int = 200
) -> list[Run]:
    """Runs recorded as ended more than ``grace_s`` ago whose terminal event was never
    stored (their worker was stopped between the two, or the log and the store were both
    away): every reader would wait for their end for ever. Only runs created within
    ``within_s`` are looked at (``created_at`` is indexed)."""
    now = timezone.now()
    terminal = RunEvent.objects.filter(run_id=OuterRef("pk"), type__in=sorted(TERMINAL_TYPES))
    return list(
        Run.objects.filter(
            status__in=Run.TERMINAL,
            created_at__gte=now - timedelta(seconds=within_s),
            finished_at__lt=now - timedelta(seconds=grace_s),
        )
        .exclude(Exists(terminal))
        .order_by("created_at")[:limit]
    )


def runs_waiting_to_start(*, older_than_s: float = 0) -> list[str]:
    """The first queued run of each session (and sessionless ones) queued before the horizon.

    A message lost by the broker (or by a restart of the embedded runner) leaves its run
    queued for ever; re-enqueueing the heads is safe because a claim is atomic.
    """
    horizon = timezone.now() - timedelta(seconds=older_than_s)
    queued = Run.objects.filter(status=Run.Status.QUEUED, created_at__lte=horizon).order_by(
        "session_id", "ordinal"
    )
    seen: set[object] = set()
    heads = []
    for run in queued.only("id", "session_id"):
        if run.session_id is None or run.session_id not in seen:
            heads.append(str(run.id))
            if run.session_id is not None:
                seen.add(run.session_id)
    return heads


def runs_release_all_leases() -> int:
    """Embedded start-up: this process is the only executor, so any run still marked
    running was left by the previous process; expire its lease so the reaper resumes it."""
    return Run.objects.filter(status=Run.Status.RUNNING).update(lease_expires_at=timezone.now())


def runs_heartbeat(*, owners: dict[str, str], lease_s: float) -> tuple[set[str], set[str]]:
    """Extend the leases of many runs in two statements, whatever their number.

    ``owners`` maps run id -> the owner id its attempt claimed with. Owner ids are unique
    per attempt, so ``id IN (…) AND lease_owner IN (…)`` matches exactly the pairs given.
    Returns (the runs still ours, those of them whose cancel was requested).
    """
    if not owners:
        return set(), set()
    ours = Run.objects.filter(
        pk__in=list(owners), lease_owner__in=list(owners.values()), status=Run.Status.RUNNING
    )
    ours.update(lease_expires_at=timezone.now() + timedelta(seconds=lease_s))
    held, cancel = set(), set()
    for run_id, cancel_requested in ours.values_list("id", "cancel_requested"):
        held.add(str(run_id))
        if cancel_requested:
            cancel.add(str(run_id))
    return held, cancel
