"""A real ``YouTubeClient`` wired to the local fake server, with a settable clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from backend.youtube import (
    InMemoryQuotaCounter,
    InMemorySearchCache,
    InMemorySearchCap,
    KeyManager,
    QuotaCounter,
    SearchCache,
    SearchCap,
    YouTubeClient,
)
from tests.fakes.youtube_server import YouTubeServer

# 10:00 Pacific (PST) on a Tuesday; the next Pacific midnight is 2026-01-07T08:00Z.
START = datetime(2026, 1, 6, 18, 0, tzinfo=UTC)
NEXT_PACIFIC_MIDNIGHT = datetime(2026, 1, 7, 8, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Rig:
    client: YouTubeClient
    keys: KeyManager
    quota: QuotaCounter
    clock: FakeClock
    server: YouTubeServer
    sleeps: list[float] = field(default_factory=list)


MakeRig = Callable[..., Rig]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def make_rig(youtube_server: YouTubeServer, clock: FakeClock) -> Iterator[MakeRig]:
    clients: list[YouTubeClient] = []

    def make(
        *,
        keys: tuple[str, ...] = ("key-a", "key-b"),
        quota: QuotaCounter | None = None,
        search_cache: SearchCache | None = None,
        search_cap: SearchCap | None = None,
    ) -> Rig:
        quota = quota or InMemoryQuotaCounter()
        manager = KeyManager(list(keys), quota, clock)
        sleeps: list[float] = []
        client = YouTubeClient(
            keys=manager,
            base_url=youtube_server.base_url,
            sleep=sleeps.append,
            search_cache=search_cache or InMemorySearchCache(),
            search_cap=search_cap or InMemorySearchCap(clock=clock),
        )
        clients.append(client)
        return Rig(client, manager, quota, clock, youtube_server, sleeps)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def rig(make_rig: MakeRig) -> Rig:
    return make_rig()
