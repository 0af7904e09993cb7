"""Exactly once: the same event delivered twice or twenty times at once, other events about
the same session and the success page's re-sync all racing, credit the pack once. On
PostgreSQL (DATABASE_URL set) the race runs on real row locks; embedded, on SQLite's."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.accounts.models import Account
from backend.core import task_runner
from backend.payments.models import CreditEntry, StripeEvent
from backend.payments.selectors import credit_balance
from backend.payments.services.fulfilment.entry_points import checkout_apply, stripe_event_process
from tests.backend.payments.conftest import deliver, paid, start_checkout, stripe_event

pytestmark = pytest.mark.django_db(transaction=True)
RACERS = 20


@pytest.fixture
def bought(account_client, billing):
    body = start_checkout(account_client, "credits_10")
    return paid(billing, body["session_id"])


def test_the_same_event_delivered_twice_in_a_row_credits_once(bought):
    event = stripe_event("checkout.session.completed", bought)
    assert deliver(event).json()["duplicate"] is False
    task_runner.drain()
    assert deliver(event).json()["duplicate"] is True
    task_runner.drain()
    stripe_event_process(event_pk=StripeEvent.objects.get().pk)  # and once more by hand
    assert CreditEntry.objects.count() == 1
    assert credit_balance(account=Account.objects.get()) == Decimal("10")


def test_twenty_concurrent_deliveries_and_resyncs_credit_once(bought):
    completed = stripe_event("checkout.session.completed", bought)
    succeeded = stripe_event("checkout.session.async_payment_succeeded", bought)
    barrier = threading.Barrier(RACERS)

    def racer(index: int) -> int:
        try:
            barrier.wait(timeout=30)
            if index % 5 == 4:
                # The success page's re-sync, keyed by the session like the events.
                checkout_apply(session=bought)
                return 200
            event = completed if index % 2 else succeeded
            status = deliver(event).status_code
            # Process right here too, so processing races, not just intake.
            stored = StripeEvent.objects.get(event_id=event["id"])
            stripe_event_process(event_pk=stored.pk)
            return status
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        statuses = list(pool.map(racer, range(RACERS)))
    task_runner.drain()
    assert statuses == [200] * RACERS
    assert StripeEvent.objects.count() == 2  # one row per event id, however many deliveries
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert list(CreditEntry.objects.values_list("kind", "amount_usd")) == [
        ("purchase", Decimal("10"))
    ]
    assert credit_balance(account=Account.objects.get()) == Decimal("10")


# --- the ledger's invariant --------------------------------------------------------------

refund_steps = st.lists(st.integers(min_value=1, max_value=1000), min_size=0, max_size=6)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=refund_steps, order=st.randoms(use_true_random=False), repeats=st.integers(0, 2))
def test_balance_is_the_unrefunded_share_whatever_the_order_or_duplicates(
    bought, steps, order, repeats
):
    """Refund events carry the charge's running total; delivered in any order, some more
    than once, the ledger takes back exactly the largest total's share, never more."""
    CreditEntry.objects.all().delete()
    StripeEvent.objects.all().delete()
    amount = 1000
    running, totals = 0, []
    for step in steps:
        running = min(amount, running + step)
        totals.append(running)
    charge = {
        "id": "ch_prop",
        "object": "charge",
        "amount": amount,
        "payment_intent": bought["payment_intent"],
        "customer": bought["customer"],
        "metadata": {},
    }
    events = [stripe_event("checkout.session.completed", bought)] + [
        stripe_event("charge.refunded", {**charge, "amount_refunded": total}) for total in totals
    ]
    deliveries = events + [order.choice(events) for _ in range(repeats)]
    order.shuffle(deliveries)
    for event in deliveries:
        stored, _ = StripeEvent.objects.get_or_create(
            event_id=event["id"],
            defaults={
                "type": event["type"],
                "stripe_created": event["created"],
                "payload": json.loads(json.dumps(event)),
            },
        )
        stripe_event_process(event_pk=stored.pk)
    refunded = max(totals, default=0)
    expected = (Decimal("10") * (amount - refunded) / amount).quantize(Decimal("0.000001"))
    balance = credit_balance(account=Account.objects.get())
    assert balance == expected
    assert Decimal(0) <= balance <= Decimal("10")
    assert CreditEntry.objects.filter(kind="purchase").count() == 1
