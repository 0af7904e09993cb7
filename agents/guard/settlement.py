"""What the ledger keeps about a reservation so its spend can be settled or corrected later.

A call whose settle could not reach the store, or whose cost is an estimate awaiting the
provider's bill, must be settled or corrected after the call is gone — by a periodic job,
maybe in another process. The guard's in-memory ``Reservation`` is gone by then, so the
ledger row carries this JSON-able record of it: the id, the amount held, the buckets with
their limits (lifetimes are recomputed at the time of the write) and the credits key.

``reservation_note`` is the smaller record the store keeps with a live reservation: who
called, so that a reservation whose holder died can still be written to the ledger when
it expires. Such a row carries ``unsettled_record``: no buckets, since the store itself
charged the reservation's buckets when it expired and remembers which (a correction is
then a late settle of the reservation, see ``CostGuard.correct``).
"""

from __future__ import annotations

import json
from typing import Any

from agents.guard.buckets import PlannedBucket
from agents.guard.interface import CallMeta, ModelPrice, Reservation
from agents.guard.store import BucketSpec


def settlement_record(reservation: Reservation) -> dict[str, Any]:
    planned: list[PlannedBucket] = reservation.extra.get("planned", [])
    return {
        "reservation_id": reservation.reservation_id,
        "amount_micros": int(reservation.extra.get("amount_micros", 0)),
        "credits_key": reservation.extra.get("credits_key"),
        "buckets": [
            {
                "kind": p.kind,
                "key": p.spec.key,
                "limit": p.spec.limit,
                "soft_limit": p.spec.soft_limit,
                "window_ttl_s": p.spec.window_ttl_s,
                "window": p.spec.window,
            }
            for p in planned
        ],
    }


def unsettled_record(
    *, reservation_id: str, amount_micros: int, live_until: float | None = None
) -> dict[str, Any]:
    """The record of a reservation nobody settled. ``live_until`` (epoch seconds) is set
    when the row is written before the call (the embedded journal): until then its holder
    may still be running, and its own settle, not a correction, completes the row."""
    record: dict[str, Any] = {
        "reservation_id": reservation_id,
        "amount_micros": amount_micros,
        "unsettled": True,
    }
    if live_until is not None:
        record["live_until"] = live_until
    return record


def record_buckets(record: dict[str, Any]) -> list[PlannedBucket]:
    return [
        PlannedBucket(
            kind=str(bucket.get("kind", "")),
            spec=BucketSpec(
                key=str(bucket["key"]),
                limit=bucket.get("limit"),
                soft_limit=bucket.get("soft_limit"),
                window_ttl_s=int(bucket["window_ttl_s"]),
                window=bucket.get("window"),
            ),
        )
        for bucket in record.get("buckets", [])
    ]


def reservation_note(*, meta: CallMeta, model: ModelPrice) -> str:
    return json.dumps(
        {
            "client_id": meta.client_id,
            "run_id": meta.run_id,
            "session_id": meta.session_id,
            "feature": meta.feature,
            "plan": meta.plan,
            "model": model.model_id,
        },
        separators=(",", ": "),
    )


def parse_note(note: str) -> dict[str, Any]:
    try:
        parsed = json.loads(note) if note else {}
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}
