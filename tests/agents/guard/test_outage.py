"""A run's budget-store calls ride out a short outage, and give up after the wait."""

from __future__ import annotations

import asyncio

import pytest

from agents.guard.interface import GuardUnavailableError
from agents.guard.outage import outlasting_store_outage


class Flaky:
    def __init__(self, down: int) -> None:
        self.down = down
        self.calls = 0

    async def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.down:
            raise GuardUnavailableError("store away", details={"store": "redis"})
        return "answer"


async def test_the_call_is_asked_again_until_the_store_answers() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    call = Flaky(down=2)
    assert await outlasting_store_outage(call, sleep=sleep) == "answer"
    assert call.calls == 3 and waits == [1.0, 1.0]


async def test_a_store_that_stays_away_raises_after_the_wait() -> None:
    call = Flaky(down=10_000)
    started = asyncio.get_running_loop().time()
    with pytest.raises(GuardUnavailableError):
        await outlasting_store_outage(call, wait_s=0.3)
    assert asyncio.get_running_loop().time() - started >= 0.3
    assert call.calls >= 2


async def test_other_errors_are_not_retried() -> None:
    async def broken() -> None:
        raise ValueError("not an outage")

    with pytest.raises(ValueError, match="not an outage"):
        await outlasting_store_outage(broken)
