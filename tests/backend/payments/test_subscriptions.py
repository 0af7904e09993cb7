"""The Pro subscription: started by Checkout, kept by invoices, ended or withdrawn by
Stripe's events — in whatever order Stripe delivers them."""

from __future__ import annotations

import itertools
import time

import pytest

from backend.accounts.models import Account
from backend.core import task_runner
from backend.payments.models import StripeEvent, Subscription
from tests.backend.payments.conftest import deliver, paid, start_checkout, stripe_event

pytestmark = pytest.mark.django_db(transaction=True)
T0 = int(time.time()) - 3600


def apply(*events: dict) -> None:
    for event in events:
        assert deliver(event).status_code == 200
    task_runner.drain()


def plan() -> str:
    return Account.objects.get().plan


@pytest.fixture
def subscribed(account_client, billing, posthog_server):
    """An account that paid for Pro at Checkout (the completion event applied)."""
    body = start_checkout(account_client, "pro_monthly")
    session = paid(billing, body["session_id"])
    apply(stripe_event("checkout.session.completed", session, created=T0))
    return session


def subscription_event(type_: str, session: dict, status: str, *, created: int) -> dict:
    account = Account.objects.get()
    return stripe_event(
        type_,
        {
            "id": session["subscription"],
            "object": "subscription",
            "status": status,
            "customer": session["customer"],
            "cancel_at_period_end": False,
            "metadata": {"account_id": str(account.id), "price_key": "pro_monthly"},
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": "si_1",
                        "price": {"id": "price_pro", "object": "price"},
                        "current_period_end": created + 30 * 86_400,
                    }
                ],
            },
        },
        created=created,
    )


def invoice_event(type_: str, session: dict, *, created: int) -> dict:
    return stripe_event(
        type_,
        {
            "id": f"in_test_{created}",
            "object": "invoice",
            "customer": session["customer"],
            "parent": {
                "type": "subscription_details",
                "subscription_details": {"subscription": session["subscription"], "metadata": {}},
            },
        },
        created=created,
    )


def test_paid_checkout_starts_pro_and_reports_the_plan_change(subscribed, posthog_server):
    assert plan() == "pro"
    subscription = Subscription.objects.get()
    assert (subscription.status, subscription.price_key) == ("active", "pro_monthly")
    changed = posthog_server.wait_for("plan_changed")
    assert changed[0]["properties"]["from"] == "free"
    assert changed[0]["properties"]["to"] == "pro"
    posthog_server.wait_for("checkout_completed")


def test_cancellation_ends_pro(subscribed):
    apply(
        subscription_event("customer.subscription.deleted", subscribed, "canceled", created=T0 + 60)
    )
    assert plan() == "free"
    assert Subscription.objects.get().status == "canceled"


@pytest.mark.parametrize(
    "order", list(itertools.permutations(range(3))), ids=lambda o: "-".join(map(str, o))
)
def test_out_of_order_subscription_events_end_in_the_newest_state(subscribed, order):
    events = [
        subscription_event(
            "customer.subscription.updated", subscribed, "past_due", created=T0 + 10
        ),
        subscription_event("customer.subscription.updated", subscribed, "active", created=T0 + 20),
        subscription_event(
            "customer.subscription.deleted", subscribed, "canceled", created=T0 + 30
        ),
    ]
    apply(*[events[index] for index in order])
    assert Subscription.objects.get().status == "canceled"
    assert plan() == "free"


@pytest.mark.parametrize("reverse", [False, True], ids=["in-order", "reversed"])
def test_older_states_never_overwrite_newer_ones(subscribed, reverse):
    events = [
        subscription_event(
            "customer.subscription.updated", subscribed, "past_due", created=T0 + 10
        ),
        subscription_event("customer.subscription.updated", subscribed, "unpaid", created=T0 + 20),
        subscription_event("customer.subscription.updated", subscribed, "active", created=T0 + 30),
    ]
    apply(*(reversed(events) if reverse else events))
    subscription = Subscription.objects.get()
    assert (subscription.status, subscription.state_as_of) == ("active", T0 + 30)
    assert plan() == "pro"


def test_a_failed_renewal_keeps_pro_while_stripe_retries_and_unpaid_ends_it(subscribed):
    apply(invoice_event("invoice.payment_failed", subscribed, created=T0 + 10))
    assert Subscription.objects.get().status == "past_due"
    assert plan() == "pro"
    apply(
        subscription_event("customer.subscription.updated", subscribed, "unpaid", created=T0 + 20)
    )
    assert plan() == "free"
    apply(invoice_event("invoice.paid", subscribed, created=T0 + 30))
    assert plan() == "pro"


def test_a_late_checkout_completion_does_not_revive_an_ended_subscription(account_client, billing):
    body = start_checkout(account_client, "pro_monthly")
    session = paid(billing, body["session_id"])
    # The subscription's end arrives before its start.
    Subscription.objects.create(
        stripe_subscription_id=session["subscription"],
        account=Account.objects.get(),
        status="active",
    )
    apply(subscription_event("customer.subscription.deleted", session, "canceled", created=T0 + 60))
    apply(stripe_event("checkout.session.completed", session, created=T0))
    assert Subscription.objects.get().status == "canceled"
    assert plan() == "free"


def test_a_refunded_or_disputed_subscription_payment_withdraws_pro(subscribed):
    charge = {
        "id": "ch_sub_1",
        "object": "charge",
        "amount": 900,
        "amount_refunded": 300,
        "payment_intent": "pi_invoice_1",
        "customer": subscribed["customer"],
        "metadata": {},
    }
    apply(stripe_event("charge.refunded", charge))
    assert plan() == "pro"  # a partial refund is goodwill, not a withdrawal
    apply(stripe_event("charge.refunded", {**charge, "amount_refunded": 900}))
    assert plan() == "free"
    assert Subscription.objects.get().revoked is True
    # The next paid invoice restores it.
    apply(invoice_event("invoice.paid", subscribed, created=int(time.time()) + 10))
    assert plan() == "pro"
    dispute = {
        "id": "dp_sub_1",
        "object": "dispute",
        "amount": 900,
        "charge": {"id": "ch_sub_2", "customer": subscribed["customer"]},
        "payment_intent": "pi_invoice_2",
    }
    apply(stripe_event("charge.dispute.created", dispute))
    assert plan() == "free"
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {"processed"}
