"""Finished UTC days' bucket totals are archived from the live store, idempotently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync

from agents.guard import CallMeta, CallUsage, ModelPrice
from backend.guard import instance as guard_instance
from backend.guard.models import DailySpendSnapshot
from backend.guard.services import spend_archive_finished_days

pytestmark = pytest.mark.django_db(transaction=True)
PRICE = ModelPrice(
    model_id="m", input_per_token=Decimal("0.000001"), output_per_token=Decimal("0.000002")
)


def test_yesterdays_totals_are_archived_once(monkeypatch):
    yesterday_noon = datetime.now(UTC).replace(hour=12, minute=0, second=0) - timedelta(days=1)

    async def spend_yesterday() -> None:
        guard = guard_instance.get_guard()
        monkeypatch.setattr(guard, "_clock", lambda: yesterday_noon.timestamp())
        meta = CallMeta(client_id="c1", feature="chat", ip_hash="ip1")
        reservation = await guard.reserve(
            meta=meta, model=PRICE, prompt_tokens_upper_bound=100, max_tokens=100
        )
        await guard.settle(
            reservation,
            CallUsage(input_tokens=10, output_tokens=10, reported_cost_usd=Decimal("0.000123")),
        )

    async_to_sync(spend_yesterday)()
    assert spend_archive_finished_days() > 0
    assert spend_archive_finished_days() > 0  # again: updates, never duplicates
    day = yesterday_noon.date()
    rows = {row.bucket: row for row in DailySpendSnapshot.objects.filter(day=day)}
    assert DailySpendSnapshot.objects.filter(day=day).count() == len(rows)
    global_row = next(row for key, row in rows.items() if key.startswith("global"))
    assert global_row.spent_usd == Decimal("0.000123")
    assert any(key.startswith("client:c1") for key in rows)
