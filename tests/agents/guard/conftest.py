from __future__ import annotations

import pytest

from agents.guard import MemoryBudgetStore
from tests.agents.guard.support import FakeClock


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(clock: FakeClock) -> MemoryBudgetStore:
    return MemoryBudgetStore(clock=clock)
