"""Completing and correcting recorded spend after the calls are gone (a periodic job).

Three queues, each small and idempotent:

- **Expired reservations.** A reservation whose holder died (a SIGKILLed worker) is
  counted by the store at its worst case when it expires; here it gets its ledger row,
  ``estimated``, keyed by the reservation id, with the generation id its holder noted
  (if its holder was alive after all and settles late, that settle replaces the row).
- **Pending settles.** A settle that could not reach the store (``SettleDeferredError``)
  left its cost in the ledger with ``settle_pending``; here it is settled, releasing the
  client's concurrency slot (until then the reservation holds it; at worst it expires).
- **Estimates.** A call that ended before the provider's usage was charged its worst
  case; where the provider can say what it billed (OpenRouter's generation lookup by
  generation id) the row, the run's totals and the budget buckets move by the
  difference, up or down. A generation the provider does not know yet (404 for the
  first seconds) is asked again on the next pass, up to ``MAX_LOOKUPS`` times; a row
  never looked up successfully keeps its worst case. An expired reservation's row is
  corrected the same way (its buckets through the store's record of its expiry charge);
  its run's totals, which never counted it, gain the billed figures.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import structlog
from asgiref.sync import async_to_sync
from django.conf import settings
from django.utils import timezone

from agents.guard import CallMeta, GuardUnavailableError
from agents.guard.pricing import micros_to_usd, usd_to_micros
from agents.guard.settlement import parse_note, unsettled_record
from agents.models import ModelSettings, generation_billing
from backend.core.db import released

logger = structlog.get_logger(__name__)

BATCH = 200
# At one pass a minute: about 20 minutes of "not known yet" before giving up.
MAX_LOOKUPS = 20
# Older estimates are left as they are (their daily buckets are archived by then).
LOOKUP_WINDOW = timedelta(days=2)


# Who keeps totals over the ledger's rows and must move with a corrected row: the run
# engine's run totals, registered from its AppConfig.ready() (the guard knows no runs).
# Called inside the correction's transaction with (run_id, input_tokens, output_tokens,
# cost_usd), the differences to add.
BillingCorrectionHook = Callable[..., None]
_correction_hooks: list[BillingCorrectionHook] = []


def on_billing_corrected(hook: BillingCorrectionHook) -> None:
    if hook not in _correction_hooks:
        _correction_hooks.append(hook)


def spend_reconcile() -> dict[str, int]:
    """One pass over the three queues; returns how many rows each one handled."""
    return async_to_sync(_reconcile)()


async def _reconcile() -> dict[str, int]:
    from backend.guard.instance import get_guard, get_store

    guard, store = get_guard(), get_store()
    counts = {"expired": 0, "settled": 0, "corrected": 0}
    try:
        counts["expired"] = await _record_expired(store)
        counts["settled"] = await _complete_pending(guard)
    except GuardUnavailableError:
        logger.warning("spend_reconcile_store_unavailable")
    counts["corrected"] = await _correct_estimates(guard)
    if any(counts.values()):
        logger.info("spend_reconciled", **counts)
    return counts


# -- expired reservations ------------------------------------------------------------


async def _record_expired(store: Any) -> int:
    expired = await store.drain_expired(limit=BATCH)
    if expired:
        await released(_write_expired)(expired)
    return len(expired)


def unsettled_row(
    *,
    reservation_id: str,
    amount_micros: int,
    note: str,
    generation_id: str = "",
    live_until: float | None = None,
) -> Any:
    """The ledger row of a reservation nobody settled (yet): its worst case, estimated,
    with the generation id by which its billed cost can be learnt (if its holder saw one).
    ``live_until``: the row is written before the call (see ``unsettled_record``)."""
    from backend.guard.models import LlmCall

    fields = parse_note(note)
    cost = micros_to_usd(amount_micros)
    return LlmCall(
        reservation_id=reservation_id,
        run_id=fields.get("run_id") or "",
        client_id=str(fields.get("client_id") or ""),
        session_id=fields.get("session_id") or "",
        plan=str(fields.get("plan") or "")[:16],
        feature=str(fields.get("feature") or "expired")[:64],
        model=str(fields.get("model") or "")[:200],
        cost_usd=cost,
        reserved_usd=cost,
        is_error=True,
        estimated=True,
        generation_id=generation_id[:200],
        settlement=unsettled_record(
            reservation_id=reservation_id, amount_micros=amount_micros, live_until=live_until
        ),
    )


def unsettled_row_note_generation(*, reservation_id: str, generation_id: str) -> None:
    """Give a reservation's estimated row the generation id it lacks (the call's own
    settle writes the same id, so there is nothing to overwrite)."""
    from backend.guard.models import LlmCall

    LlmCall.objects.filter(
        reservation_id=reservation_id,
        generation_id="",
        estimated=True,
        reconciled_at__isnull=True,
    ).update(generation_id=generation_id[:200])


def _write_expired(expired: list[Any]) -> None:
    from backend.guard.models import LlmCall

    rows = []
    for reservation in expired:
        row = unsettled_row(
            reservation_id=reservation.reservation_id,
            amount_micros=reservation.amount,
            note=reservation.note,
            generation_id=reservation.generation_id,
        )
        rows.append(row)
        logger.warning(
            "reservation_expired_unsettled",
            reservation_id=reservation.reservation_id,
            cost_usd=str(row.cost_usd),
            run_id=row.run_id,
        )
    # A row already there (its holder settled, or a settle is pending, or the embedded
    # journal wrote it before the call) wins.
    LlmCall.objects.bulk_create(rows, ignore_conflicts=True)
    _expire_journal_rows(expired)


def _expire_journal_rows(expired: list[Any]) -> None:
    """The embedded journal's rows of these reservations: their holders are gone now, so
    the rows may be corrected at once (and take the generation id if they lack it)."""
    from backend.guard.models import LlmCall

    by_id = {reservation.reservation_id: reservation for reservation in expired}
    journal = LlmCall.objects.filter(
        reservation_id__in=list(by_id), settlement__has_key="live_until"
    )
    for row in journal:
        reservation = by_id[row.reservation_id]
        # Only while it is still the journal's row: a late settle's own row wins.
        LlmCall.objects.filter(pk=row.pk, settlement__has_key="live_until").update(
            settlement=unsettled_record(
                reservation_id=reservation.reservation_id, amount_micros=reservation.amount
            ),
            generation_id=row.generation_id or reservation.generation_id[:200],
        )


# -- pending settles -----------------------------------------------------------------


def _meta_of(row: Any) -> CallMeta:
    return CallMeta(
        client_id=row.client_id,
        feature=row.feature,
        run_id=row.run_id or None,
        session_id=row.session_id or None,
    )


async def _complete_pending(guard: Any) -> int:
    from backend.guard.models import LlmCall

    def pending() -> list[LlmCall]:
        return list(LlmCall.objects.filter(settle_pending=True).order_by("created_at")[:BATCH])

    rows = await released(pending)()
    done = 0
    for row in rows:
        if row.settlement.get("reservation_id"):
            # GuardUnavailableError (still down) ends the pass; the next one tries again.
            status = await guard.resettle(
                record=row.settlement, actual_micros=usd_to_micros(row.cost_usd), meta=_meta_of(row)
            )
            logger.info(
                "pending_settle_completed", reservation_id=row.reservation_id, status=status
            )
        await released(LlmCall.objects.filter(pk=row.pk).update)(settle_pending=False)
        done += 1
    return done


# -- estimates -----------------------------------------------------------------------


def _lookup_settings() -> ModelSettings | None:
    env = settings.ENV
    if not env.OPENROUTER_API_KEY:
        return None
    return ModelSettings(base_url=env.OPENROUTER_BASE_URL, api_key=env.OPENROUTER_API_KEY)


async def _correct_estimates(guard: Any) -> int:
    from backend.guard.models import LlmCall

    lookup = _lookup_settings()
    if lookup is None:
        return 0
    since = timezone.now() - LOOKUP_WINDOW

    def open_estimates() -> list[LlmCall]:
        return list(
            LlmCall.objects.filter(
                estimated=True,
                reconciled_at__isnull=True,
                settle_pending=False,  # correct a settle only once it has landed
                created_at__gte=since,
                reconcile_attempts__lt=MAX_LOOKUPS,
            )
            .exclude(generation_id="")
            .order_by("created_at")[:BATCH]
        )

    rows = await released(open_estimates)()
    corrected = 0
    for row in rows:
        if row.settlement.get("live_until", 0) > time.time():
            continue  # written before its call, which may still be running
        try:
            billing = await generation_billing(settings=lookup, generation_id=row.generation_id)
        except Exception as exc:  # the provider's lookup failing is the next pass's problem
            logger.warning(
                "generation_lookup_failed", generation_id=row.generation_id, error=str(exc)
            )
            billing = None
        if billing is None:
            await released(_count_lookup)(row.pk)
            continue
        delta = usd_to_micros(billing.cost_usd) - usd_to_micros(row.cost_usd)
        if delta and row.settlement.get("reservation_id"):
            try:
                await guard.correct(record=row.settlement, delta_micros=delta, meta=_meta_of(row))
            except GuardUnavailableError:
                logger.warning("spend_correction_deferred", reservation_id=row.reservation_id)
                continue
        await released(_apply_billing)(row, billing)
        corrected += 1
    return corrected


def _count_lookup(pk: int) -> None:
    from django.db.models import F

    from backend.guard.models import LlmCall

    LlmCall.objects.filter(pk=pk).update(reconcile_attempts=F("reconcile_attempts") + 1)


def _apply_billing(row: Any, billing: Any) -> None:
    """The row takes the billed figures; the run's totals move by the same difference,
    or, for a reservation nobody settled (never counted in its run), gain them."""
    from django.db import transaction

    from backend.guard.models import LlmCall

    counted = not row.settlement.get("unsettled")
    cost_delta: Decimal = billing.cost_usd - (row.cost_usd if counted else 0)
    input_delta = billing.input_tokens - (row.input_tokens if counted else 0)
    output_delta = billing.output_tokens - (row.output_tokens if counted else 0)
    with transaction.atomic():
        updated = LlmCall.objects.filter(pk=row.pk, reconciled_at__isnull=True).update(
            cost_usd=billing.cost_usd,
            input_tokens=billing.input_tokens,
            output_tokens=billing.output_tokens,
            estimated=False,
            reconciled_at=timezone.now(),
            reconcile_attempts=row.reconcile_attempts + 1,
        )
        if updated and row.run_id:
            for hook in _correction_hooks:
                hook(
                    run_id=row.run_id,
                    input_tokens=input_delta,
                    output_tokens=output_delta,
                    cost_usd=cost_delta,
                )
    logger.info(
        "spend_corrected",
        generation_id=row.generation_id,
        estimated_usd=str(row.cost_usd),
        billed_usd=str(billing.cost_usd),
    )
