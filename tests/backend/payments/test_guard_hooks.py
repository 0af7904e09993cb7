"""The guard's lookups: an account's plan and credits at call time, and a lost credits
count put back from the ledger before anything is admitted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync

from agents.guard import BudgetExceededError, CallMeta, ModelPrice
from backend.guard.instance import get_guard, get_store
from backend.payments.guard_hooks import caller_profile, credits_key
from backend.payments.models import CreditEntry

pytestmark = pytest.mark.django_db
PRICED = ModelPrice(
    model_id="test/priced", input_per_token=Decimal("0.001"), output_per_token=Decimal(0)
)


def test_profiles_follow_the_ledger(make_account):
    account, _ = make_account()
    meta = CallMeta(client_id=str(account.client_id), feature="t", plan="free")
    profile = async_to_sync(caller_profile)(meta)
    assert (profile.plan, profile.credits_key) == ("free", None)
    CreditEntry.objects.create(account=account, kind="purchase", amount_usd=10, reference="cs1")
    CreditEntry.objects.create(account=account, kind="refund", amount_usd=-4, reference="ch1:1")
    profile = async_to_sync(caller_profile)(meta)
    assert (profile.credits_key, profile.credits_usd) == (credits_key(account.id), Decimal(6))
    CreditEntry.objects.create(account=account, kind="usage", amount_usd=-6, reference="r1")
    assert async_to_sync(caller_profile)(meta).credits_key is None  # nothing left to draw
    other = CallMeta(client_id="not-an-account", feature="t", plan="free")
    assert async_to_sync(caller_profile)(other) is None


def test_a_lost_credits_count_is_restored_from_the_ledger_before_admitting(make_account, env):
    env(GUARD_KEY_DAILY_USD="0", GUARD_CREDITS_MAX_CALL_USD="5")
    account, _ = make_account()
    CreditEntry.objects.create(account=account, kind="purchase", amount_usd=1, reference="cs1")
    CreditEntry.objects.create(account=account, kind="usage", amount_usd="-0.9", reference="r1")
    key = credits_key(account.id)
    meta = CallMeta(client_id=str(account.client_id), feature="t", plan="free")

    async def attempt(usd: str) -> None:
        await get_guard().reserve(
            meta=meta,
            model=PRICED,
            prompt_tokens_upper_bound=int(Decimal(usd) * 1000),
            max_tokens=0,
        )

    async def counted() -> int:
        return (await get_store().usage([key]))[key].spent

    # The store never saw the earlier draw (a flushed Redis, say): the ledger says 0.90.
    assert async_to_sync(counted)() == 0
    with pytest.raises(BudgetExceededError) as refused:
        async_to_sync(attempt)("0.2")
    assert refused.value.details["bucket"] == "credits"
    assert async_to_sync(counted)() == 900_000
    async_to_sync(attempt)("0.1")  # what is really left still goes through
