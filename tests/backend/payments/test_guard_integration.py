"""A paid plan or credits raise the guard's budget as soon as fulfilment commits: a model
call the free plan refuses (402) goes through after the webhook, and credits are drawn
into the ledger. The tool call runs for real: entry check, reservation, the model over
HTTP (local OpenAI-compatible server), settle."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync

from backend.accounts.models import Account
from backend.core import task_runner
from backend.guard.instance import get_store
from backend.guard.models import LlmCall
from backend.payments.guard_hooks import credits_key
from backend.payments.models import CreditEntry, StripeEvent
from backend.payments.selectors import credit_balance
from tests.backend.payments.conftest import deliver, paid, start_checkout, stripe_event
from tests.conftest import wait_for
from tests.fakes.openai_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)
MODEL = "test/priced"
COST = Decimal("0.0005")


@pytest.fixture
def priced_model(env, openai_server):
    """A priced model behind a local server; free accounts get no budget at all."""
    env(
        OPENROUTER_API_KEY="sk-test",
        OPENROUTER_BASE_URL=openai_server.base_url,
        DECLARED_MODELS=[{"id": MODEL, "input_per_million": "1", "output_per_million": "2"}],
        GUARD_KEY_DAILY_USD="0",
        GUARD_PRO_DAILY_USD="5",
    )
    openai_server.script(
        lambda body: Reply(
            text='{"score": 72, "confidence": 0.8, "assessment": "Strong hook."}',
            cost=float(COST),
        )
    )
    return openai_server


def score(client) -> object:
    return client.post(
        "/api/tools/viral-score/",
        {"text": "I tried espresso every day for 30 days", "model": MODEL},
        format="json",
    )


def buy(client, server, price_key: str) -> None:
    body = start_checkout(client, price_key)
    response = deliver(stripe_event("checkout.session.completed", paid(server, body["session_id"])))
    assert response.status_code == 200, response.content


def test_pro_raises_the_budget_right_after_fulfilment(account_client, billing, priced_model):
    refused = score(account_client)
    assert refused.status_code == 402, refused.content
    error = refused.json()["error"]
    assert (error["code"], error["details"]["plan"]) == ("BUDGET_EXCEEDED", "free")
    assert priced_model.requests == []

    buy(account_client, billing, "pro_monthly")
    task_runner.drain()
    assert Account.objects.get().plan == "pro"

    allowed = score(account_client)
    assert allowed.status_code == 200, allowed.content
    assert allowed.json()["model_used"] is True
    call = LlmCall.objects.get()
    assert call.client_id == str(Account.objects.get().client_id)
    assert call.cost_usd == COST


def test_credits_pay_once_the_plan_budget_is_used_up_and_are_drawn_in_the_ledger(
    account_client, billing, priced_model
):
    assert score(account_client).status_code == 402
    buy(account_client, billing, "credits_10")
    task_runner.drain()
    account = Account.objects.get()
    assert credit_balance(account=account) == Decimal("10")

    # One model call per test: the test client runs each request on a new event loop,
    # and LangChain keeps its async HTTP client per process (one loop under ASGI).
    allowed = score(account_client)
    assert allowed.status_code == 200, allowed.content
    assert allowed.json()["model_used"] is True, allowed.json()["model_note"]
    usage = CreditEntry.objects.get(kind="usage")
    assert usage.amount_usd == -COST
    assert credit_balance(account=account) == Decimal("10") - COST
    key = credits_key(account.id)

    async def counted() -> int:
        return (await get_store().usage([key]))[key].spent

    # The store's gate and the ledger agree on what was drawn.
    assert async_to_sync(counted)() == int(COST * 1_000_000)
    assert account_client.get("/api/accounts/me/").json()["credits_usd"] == "9.999500"

    # A refund takes the credits back: the guard refuses again.
    charge = {
        "id": "ch_1",
        "object": "charge",
        "amount": 1000,
        "amount_refunded": 1000,
        "payment_intent": account.checkout_sessions.get().payment_intent_id,
        "customer": account.stripe_customer_id,
        "metadata": {},
    }
    assert deliver(stripe_event("charge.refunded", charge)).status_code == 200
    task_runner.drain()
    assert credit_balance(account=account) < 0
    assert score(account_client).status_code == 402


@pytest.mark.worker
def test_fulfilment_on_a_real_worker_raises_the_budget(
    account_client, billing, priced_model, celery_worker_factory, settings
):
    """PostgreSQL, Redis (budgets) and a Celery worker process fulfilling the webhook."""
    settings.TASK_RUNNER = "celery"
    celery_worker_factory(queues="default", pool="threads", concurrency=2)
    assert score(account_client).status_code == 402
    buy(account_client, billing, "pro_monthly")
    wait_for(lambda: StripeEvent.objects.filter(status="processed").exists(), timeout=60)
    assert Account.objects.get().plan == "pro"
    allowed = score(account_client)
    assert allowed.status_code == 200, allowed.content
    assert allowed.json()["model_used"] is True
