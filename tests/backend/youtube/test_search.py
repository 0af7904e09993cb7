"""search.list: cached per normalised query, capped per client per Pacific day."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend.youtube import InMemorySearchCache, InMemorySearchCap, SearchCapExceeded
from tests.backend.youtube.conftest import NEXT_PACIFIC_MIDNIGHT, FakeClock, MakeRig, Rig


def test_cache_hit_avoids_a_second_search_call(rig: Rig) -> None:
    first = rig.client.search(q="Kubernetes tutorial", client_id="c1", max_results=5)
    again = rig.client.search(q="  kubernetes   TUTORIAL ", client_id="c2", max_results=3)

    assert len(rig.server.requests_to("search")) == 1
    assert [v.video_id for v in again] == [v.video_id for v in first][:3]
    # Statistics are refreshed each time (1 unit), the search (100 units) is not.
    assert len(rig.server.requests_to("videos")) == 2
    assert rig.keys.units_today("key-a") == 100 + 1 + 1
    assert rig.server.units_used["key-a"] == 102


def test_cache_entries_expire(make_rig: MakeRig) -> None:
    now = [0.0]
    rig = make_rig(search_cache=InMemorySearchCache(ttl_s=60, monotonic=lambda: now[0]))
    rig.client.search(q="pandas", client_id="c1")
    now[0] = 59.0
    rig.client.search(q="pandas", client_id="c1")
    assert len(rig.server.requests_to("search")) == 1
    now[0] = 60.0
    rig.client.search(q="pandas", client_id="c1")
    assert len(rig.server.requests_to("search")) == 2


def test_search_cap_is_per_client_and_per_pacific_day(make_rig: MakeRig, clock: FakeClock) -> None:
    rig = make_rig(search_cap=InMemorySearchCap(limit=2, clock=clock))
    rig.client.search(q="python", client_id="c1")
    rig.client.search(q="sql", client_id="c1")

    with pytest.raises(SearchCapExceeded) as caught:
        rig.client.search(q="excel", client_id="c1")

    assert caught.value.limit == 2
    assert "2 searches per client per day" in caught.value.message
    assert caught.value.resets_at == NEXT_PACIFIC_MIDNIGHT
    assert len(rig.server.requests_to("search")) == 2  # the refused one never went out
    # Cached queries still work for the capped client, and other clients are unaffected.
    assert rig.client.search(q="PYTHON", client_id="c1")
    assert rig.client.search(q="excel", client_id="c2")
    # The next Pacific day starts a new allowance.
    clock.now = NEXT_PACIFIC_MIDNIGHT + timedelta(minutes=1)
    rig.client.search(q="tableau", client_id="c1")
    assert len(rig.server.requests_to("search")) == 4


def test_search_validates_its_arguments(rig: Rig) -> None:
    with pytest.raises(ValueError, match="empty"):
        rig.client.search(q="   ", client_id="c1")
    with pytest.raises(ValueError, match="max_results"):
        rig.client.search(q="python", client_id="c1", max_results=51)
    assert rig.server.requests == []
