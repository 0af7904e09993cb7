"""Sign-ups cannot farm budgets: throttles key on the network address (whatever the
User-Agent), and an unverified account gets no more than an anonymous visitor."""

from __future__ import annotations

from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from rest_framework.test import APIClient

from agents.guard import BudgetExceededError, CallMeta, ModelPrice
from backend.accounts.services.email_links import email_verify
from backend.accounts.tokens import email_verification_tokens, uid_for
from backend.guard.instance import get_guard
from backend.payments.models import CreditEntry
from tests.backend.accounts.conftest import PASSWORD, register, signed_in

pytestmark = pytest.mark.django_db
# $0.001 per prompt token: a call's worst case is prompt tokens / 1000 dollars.
PRICED = ModelPrice(
    model_id="test/priced", input_per_token=Decimal("0.001"), output_per_token=Decimal(0)
)


def login(client: APIClient, email: str, password: str = PASSWORD, **extra):
    return client.post(
        "/api/accounts/login/", {"email": email, "password": password}, format="json", **extra
    )


def test_sign_up_throttle_ignores_the_user_agent(env):
    env(ACCOUNT_REGISTER_IP_PER_MINUTE=3)
    statuses = [
        register(
            APIClient(REMOTE_ADDR="203.0.113.80", HTTP_USER_AGENT=f"bot/{index}"),
            f"farm{index}@example.com",
        ).status_code
        for index in range(5)
    ]
    assert statuses == [201, 201, 201, 429, 429]


def test_sign_up_throttle_counts_an_ipv6_slash_64_as_one_address(env):
    env(ACCOUNT_REGISTER_IP_PER_MINUTE=2)
    for host in ("1", "2"):
        client = APIClient(REMOTE_ADDR=f"2001:db8:5:5::{host}")
        assert register(client, f"v6-{host}@example.com").status_code == 201
    refused = register(APIClient(REMOTE_ADDR="2001:db8:5:5::3"), "v6-3@example.com")
    assert refused.status_code == 429
    other = register(APIClient(REMOTE_ADDR="2001:db8:5:6::1"), "v6-4@example.com")
    assert other.status_code == 201


def test_login_throttle_ignores_the_user_agent(make_account, env):
    env(ACCOUNT_LOGIN_IP_PER_MINUTE=3, ACCOUNT_LOGIN_PER_MINUTE=100)
    make_account("ada@example.com")
    attacker = APIClient(REMOTE_ADDR="203.0.113.81")
    for index in range(3):
        guess = login(attacker, f"guess{index}@example.com", HTTP_USER_AGENT=f"ua/{index}")
        assert guess.status_code == 401
    refused = login(attacker, "ada@example.com", HTTP_USER_AGENT="yet-another")
    assert refused.status_code == 429


# --- unverified accounts -----------------------------------------------------------------


def verify(account) -> None:
    user = account.user
    email_verify(uid=uid_for(user), token=email_verification_tokens.make_token(user))


def test_me_shows_the_limits_in_force_until_the_email_is_verified(make_account):
    account, tokens = make_account(verified=False)
    me = signed_in(tokens).get("/api/accounts/me/").json()
    assert me["plan"] == "free" and me["email_verified"] is False
    assert me["limits"]["plan"] == "anonymous"
    assert me["limits"]["until_email_verified"] is True
    assert me["limits"]["daily_usd"] == "0.05"  # GUARD_ANON_CLIENT_DAILY_USD
    verify(account)
    me = signed_in(tokens).get("/api/accounts/me/").json()
    assert me["email_verified"] is True
    assert me["limits"]["plan"] == "free"
    assert me["limits"]["until_email_verified"] is False
    assert me["limits"]["daily_usd"] == "1"  # GUARD_KEY_DAILY_USD


def _reserve(account, usd: str, *, ip_hash: str | None = None) -> None:
    async def attempt() -> None:
        await get_guard().reserve(
            meta=CallMeta(
                client_id=str(account.client_id),
                feature="test",
                plan=account.plan,  # what the identity carries: the account's own plan
                ip_hash=ip_hash,
            ),
            model=PRICED,
            prompt_tokens_upper_bound=int(Decimal(usd) * 1000),
            max_tokens=0,
        )

    async_to_sync(attempt)()


def test_an_unverified_account_is_budgeted_as_an_anonymous_visitor(make_account, env):
    env(GUARD_ANON_CLIENT_DAILY_USD="0.05", GUARD_ANON_MAX_CALL_USD="1", GUARD_KEY_DAILY_USD="1")
    account, _ = make_account(verified=False)
    with pytest.raises(BudgetExceededError) as refused:
        _reserve(account, "0.10")  # within the free plan's $1, above the anonymous $0.05
    assert refused.value.details["bucket"] == "client"
    assert refused.value.details["plan"] == "anonymous"
    verify(account)
    _reserve(account, "0.10")  # verified: the free plan's budget from the next call on


def test_unverified_sign_ups_share_the_per_ip_budget_with_anonymous_clients(make_account, env):
    env(GUARD_IP_DAILY_USD="0.03", GUARD_ANON_CLIENT_DAILY_USD="1", GUARD_ANON_MAX_CALL_USD="1")
    first, _ = make_account("farm1@example.com", verified=False)
    second, _ = make_account("farm2@example.com", verified=False)
    _reserve(first, "0.02", ip_hash="one-network")
    with pytest.raises(BudgetExceededError) as refused:
        _reserve(second, "0.02", ip_hash="one-network")
    assert refused.value.details["bucket"] == "ip"


def test_credits_an_unverified_account_bought_still_pay(make_account, env):
    env(GUARD_ANON_CLIENT_DAILY_USD="0", GUARD_CREDITS_MAX_CALL_USD="5")
    account, _ = make_account(verified=False)
    CreditEntry.objects.create(account=account, kind="purchase", amount_usd=1, reference="cs1")
    _reserve(account, "0.5")  # the anonymous budget is 0: the credits pay
    with pytest.raises(BudgetExceededError) as refused:
        _reserve(account, "0.6")
    assert refused.value.details["bucket"] == "credits"


def test_a_pro_account_keeps_its_plan_unverified(make_account, env):
    env(GUARD_ANON_CLIENT_DAILY_USD="0", GUARD_PRO_DAILY_USD="5", GUARD_PRO_MAX_CALL_USD="1")
    account, tokens = make_account(verified=False)
    account.plan = "pro"
    account.save(update_fields=["plan"])
    _reserve(account, "0.5")
    assert signed_in(tokens).get("/api/accounts/me/").json()["limits"]["plan"] == "pro"


def test_scripted_sign_ups_cannot_drain_the_global_budget_for_paying_users(make_account, env):
    env(
        GUARD_GLOBAL_DAILY_USD="1",
        GUARD_GLOBAL_SHARE_ANONYMOUS="0.3",
        GUARD_ANON_CLIENT_DAILY_USD="0.05",
        GUARD_ANON_MAX_CALL_USD="1",
        GUARD_PRO_MAX_CALL_USD="1",
    )
    outcomes = []
    for index in range(10):  # each from its own address: the per-IP cap is no help here
        account, _ = make_account(f"farm{index}@example.com", verified=False)
        try:
            _reserve(account, "0.05", ip_hash=f"net-{index}")
        except BudgetExceededError as exc:
            outcomes.append(exc.details["bucket"])
        else:
            outcomes.append("ok")
    assert outcomes == ["ok"] * 6 + ["global_plan"] * 4  # $0.30 of the $1 day
    subscriber, _ = make_account("paying@example.com")
    subscriber.plan = "pro"
    subscriber.save(update_fields=["plan"])
    _reserve(subscriber, "0.60")  # the rest of the day is still there for paying users
