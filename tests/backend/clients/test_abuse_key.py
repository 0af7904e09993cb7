"""The abuse key (``ip_hash``) is the network address alone: a fresh User-Agent, or another
address in the same IPv6 /64, must not buy a fresh mint limit, throttle or per-IP budget."""

from __future__ import annotations

import ipaddress
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync
from django.test import RequestFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from agents.guard import BudgetExceededError, CallMeta
from agents.guard.interface import ModelPrice
from backend.clients.authentication import resolve_identity
from backend.clients.identity import ip_hash, network_address

rf = RequestFactory()


def key_of(remote: str, user_agent: str = "") -> str:
    return ip_hash(rf.get("/", REMOTE_ADDR=remote, HTTP_USER_AGENT=user_agent))


def test_the_user_agent_does_not_change_the_key():
    assert key_of("198.51.100.4", "curl/8.0") == key_of("198.51.100.4", "Mozilla/5.0")
    assert key_of("198.51.100.4", "a") != key_of("198.51.100.5", "a")


def test_the_key_is_salted_and_never_the_address_itself(settings):
    key = key_of("198.51.100.4")
    assert len(key) == 32 and "198.51.100.4" not in key
    settings.SECRET_KEY = "another-secret-another-secret-another-secret"
    assert key_of("198.51.100.4") != key


def test_ipv4_mapped_ipv6_is_the_ipv4_address():
    assert network_address("::ffff:203.0.113.9") == "203.0.113.9"
    assert key_of("::ffff:203.0.113.9") == key_of("203.0.113.9")


def test_ipv6_addresses_in_one_slash_64_share_a_key():
    assert network_address("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64"
    assert key_of("2001:db8:1:2::1") == key_of("2001:db8:1:2:ffff:ffff:ffff:ffff")
    assert key_of("2001:db8:1:2::1") != key_of("2001:db8:1:3::1")
    # A zone index names an interface of the peer's link, not another subscriber.
    assert key_of("fe80::1%eth0") == key_of("fe80::2")


def test_an_unparseable_peer_address_still_gets_a_key():
    assert network_address("not-an-address") == "not-an-address"
    assert key_of("not-an-address") != key_of("198.51.100.4")


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    network=st.integers(min_value=1, max_value=(1 << 64) - 1),
    host_a=st.integers(min_value=0, max_value=(1 << 64) - 1),
    host_b=st.integers(min_value=0, max_value=(1 << 64) - 1),
    other_network=st.integers(min_value=1, max_value=(1 << 64) - 1),
)
def test_ipv6_key_depends_on_the_top_64_bits_only(network, host_a, host_b, other_network):
    def address(net: int, host: int) -> str:
        candidate = ipaddress.IPv6Address((net << 64) | host)
        return str(candidate)

    first, second = address(network, host_a), address(network, host_b)
    if ipaddress.IPv6Address(first).ipv4_mapped is not None:
        return  # ::ffff:0:0/96 is IPv4 (covered above)
    assert key_of(first) == key_of(second)
    if other_network != network:
        assert key_of(first) != key_of(address(other_network, host_a))


@pytest.mark.django_db
def test_a_new_user_agent_per_request_does_not_reset_the_mint_limit(env):
    env(CLIENT_MINT_PER_MINUTE=10)
    client = APIClient(REMOTE_ADDR="203.0.113.50")
    statuses = [
        client.post("/api/clients/", HTTP_USER_AGENT=f"farm/{index}").status_code
        for index in range(15)
    ]
    assert statuses == [201] * 10 + [429] * 5
    # Another address in the same /64 is the same subscriber.
    v6 = APIClient(REMOTE_ADDR="2001:db8:7:7::1")
    assert [v6.post("/api/clients/").status_code for _ in range(10)] == [201] * 10
    assert APIClient(REMOTE_ADDR="2001:db8:7:7::beef").post("/api/clients/").status_code == 429
    assert APIClient(REMOTE_ADDR="2001:db8:7:8::1").post("/api/clients/").status_code == 201


@pytest.mark.django_db
def test_the_per_ip_daily_budget_is_shared_whatever_the_user_agent(env):
    """Two anonymous clients from one address, with different User-Agents, draw on one
    per-IP budget: the second is refused for the IP bucket, not for its own."""
    env(GUARD_IP_DAILY_USD="0.015", GUARD_ANON_CLIENT_DAILY_USD="1", GUARD_ANON_MAX_CALL_USD="1")
    from backend.guard.instance import get_guard

    identities = []
    for agent in ("agent-a", "agent-b"):
        token = APIClient(REMOTE_ADDR="203.0.113.60").post("/api/clients/").json()["token"]
        request = rf.get(
            "/", REMOTE_ADDR="203.0.113.60", HTTP_USER_AGENT=agent, HTTP_X_CLIENT_TOKEN=token
        )
        identity = resolve_identity(request)
        assert identity is not None
        identities.append(identity)
    price = ModelPrice(
        model_id="test/priced",
        input_per_token=Decimal("0.000001"),
        output_per_token=Decimal("0.000001"),
    )

    async def reserve(identity):
        return await get_guard().reserve(
            meta=CallMeta(
                client_id=identity.client_id,
                feature="test",
                plan=identity.plan,
                ip_hash=identity.ip_hash,
            ),
            model=price,
            prompt_tokens_upper_bound=5000,
            max_tokens=5000,
        )

    async_to_sync(reserve)(identities[0])  # $0.01 of the $0.015
    with pytest.raises(BudgetExceededError) as refused:
        async_to_sync(reserve)(identities[1])
    assert refused.value.details["bucket"] == "ip"
