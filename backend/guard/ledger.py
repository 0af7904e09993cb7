"""The ledger row of one model call attempt, from the model factory's ``ModelCallEvent``.

Two writers use it: the ORM (``ledger_record``) and the worker loop's single statement
(``LEDGER_UPSERT_SQL`` with ``ledger_params``, in ``backend.model_calls.usage``). A row
is keyed by its reservation id: a reservation recorded when it expired unsettled (its
holder seemed gone) is replaced by the holder's own settle if that still comes.
"""

from __future__ import annotations

import json
from typing import Any

from agents.guard.settlement import settlement_record
from agents.models import ModelCallEvent

# Column order of LEDGER_UPSERT_SQL and ledger_params.
_COLUMNS = (
    "run_id",
    "client_id",
    "session_id",
    "plan",
    "feature",
    "model",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "reserved_usd",
    "is_error",
    "latency_ms",
    "reservation_id",
    "generation_id",
    "estimated",
    "settle_pending",
    "settlement",
    "prompt_hash",
)
# What a late settle rewrites in a row its expiry wrote first.
_ON_CONFLICT = (
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "is_error",
    "latency_ms",
    "generation_id",
    "estimated",
    "settle_pending",
    "settlement",
    "prompt_hash",
)

LEDGER_UPSERT_SQL = (
    "INSERT INTO guard_llmcall (run_id, client_id, session_id, plan, feature, model, "
    "input_tokens, output_tokens, cost_usd, reserved_usd, is_error, latency_ms, "
    "reservation_id, generation_id, estimated, settle_pending, settlement, prompt_hash, "
    "reconcile_attempts, created_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, "
    "%s, 0, now()) "
    "ON CONFLICT (reservation_id) DO UPDATE SET input_tokens = EXCLUDED.input_tokens, "
    "output_tokens = EXCLUDED.output_tokens, cost_usd = EXCLUDED.cost_usd, "
    "is_error = EXCLUDED.is_error, latency_ms = EXCLUDED.latency_ms, "
    "generation_id = EXCLUDED.generation_id, estimated = EXCLUDED.estimated, "
    "settle_pending = EXCLUDED.settle_pending, settlement = EXCLUDED.settlement, "
    "prompt_hash = EXCLUDED.prompt_hash"
)


def ledger_fields(event: ModelCallEvent) -> dict[str, Any]:
    """The row's columns. The settlement record is kept only where a later write needs it
    (an estimate to correct, a settle to complete)."""
    keep = event.reservation is not None and (event.estimated or event.settle_pending)
    return {
        "run_id": event.trace_id or "",
        "client_id": event.client_id,
        "session_id": event.session_id or "",
        "plan": "",
        "feature": event.feature,
        "model": event.model,
        "input_tokens": event.input_tokens,
        "output_tokens": event.output_tokens,
        "cost_usd": event.cost_usd,
        "reserved_usd": event.reserved_usd,
        "is_error": event.is_error,
        "latency_ms": int(event.latency_s * 1000),
        "reservation_id": event.reservation_id,
        "generation_id": event.generation_id or "",
        "estimated": event.estimated,
        "settle_pending": event.settle_pending,
        "settlement": settlement_record(event.reservation)
        if keep and event.reservation is not None
        else {},
        "prompt_hash": event.prompt_hash or "",
    }


def ledger_params(event: ModelCallEvent) -> tuple[Any, ...]:
    fields = ledger_fields(event)
    fields["settlement"] = json.dumps(fields["settlement"])
    return tuple(fields[c] for c in _COLUMNS)


def ledger_record(event: ModelCallEvent) -> None:
    """Write the row with the ORM (one INSERT ... ON CONFLICT on the reservation id)."""
    from backend.guard.models import LlmCall

    row = LlmCall(**ledger_fields(event))
    if row.reservation_id is None:
        row.save()
        return
    LlmCall.objects.bulk_create(
        [row],
        update_conflicts=True,
        unique_fields=["reservation_id"],
        update_fields=list(_ON_CONFLICT),
    )


def ledger_mark_settle_pending(event: ModelCallEvent) -> None:
    """The call's row (written before its settle) keeps a settle the store did not take."""
    from backend.guard.models import LlmCall

    if event.reservation is None or not event.reservation_id:
        return
    LlmCall.objects.filter(reservation_id=event.reservation_id).update(
        settle_pending=True, settlement=settlement_record(event.reservation)
    )
