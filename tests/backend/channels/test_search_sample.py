"""keyword_research's YouTube sample: the real YouTubeClient against the local fake API.

The figures equal what the fake's data gives by hand; quota units are counted per key;
a repeat comes from the cache with no request; caps, the time budget and YouTube
failures give "not sampled: <why>", never an error.
"""

from __future__ import annotations

import math
import statistics
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
import redis
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

from agents.analytics.search_competition import search_figures
from backend.channels.search_sample import SampleSettings, SearchCaps, SearchSampler
from backend.youtube import InMemoryQuotaCounter, InMemorySearchCap, KeyManager, RedisSearchCap
from backend.youtube.pacific import utc_now
from backend.youtube.quota import key_fingerprint
from tests.backend.youtube.conftest import START, FakeClock
from tests.fakes.youtube_server import YouTubeServer, fake_channel_id

SUBSCRIBERS = {
    "Thu Vu data analytics": 210_000,
    "codebasics": 1_100_000,
    "Alex The Analyst": 950_000,
    "Absent Data": 40_000,
    # TechWorld with Nana: hidden
}


@dataclass
class FakeTime:
    """Monotonic seconds that move only when told: by the client's back-off sleeps and
    by ``per_request`` seconds for each HTTP request."""

    now: float = 0.0
    per_request: float = 0.0
    sleeps: list[float] = field(default_factory=list)
    timeouts: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def transport(self) -> httpx.BaseTransport:
        time = self

        class Timed(httpx.HTTPTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                time.timeouts.append(request.extensions["timeout"]["read"])
                response = super().handle_request(request)
                time.now += time.per_request
                return response

        return Timed()


@dataclass
class Rig:
    server: YouTubeServer
    sampler: SearchSampler
    keys: KeyManager
    caps: SearchCaps
    time: FakeTime
    clock: FakeClock


MakeRig = Callable[..., Rig]


@pytest.fixture
def make_rig(youtube_server: YouTubeServer) -> MakeRig:
    for title, count in SUBSCRIBERS.items():
        youtube_server.subscriber_counts[fake_channel_id(title)] = count
    cache = LocMemCache(f"keyword-sample-{id(youtube_server)}", {})

    def make(
        *,
        keys: tuple[str, ...] | None = ("key-a", "key-b"),
        clock: FakeClock | None = None,
        caps: SearchCaps | None = None,
        cache: BaseCache = cache,
        **overrides: Any,
    ) -> Rig:
        clock = clock or FakeClock(START)
        time = FakeTime()
        settings = SampleSettings(**overrides)
        caps = caps or SearchCaps(
            per_client=InMemorySearchCap(limit=settings.client_daily_cap, clock=clock),
            per_ip=InMemorySearchCap(limit=settings.ip_daily_cap, clock=clock),
            whole_service=InMemorySearchCap(limit=settings.global_daily_cap, clock=clock),
        )
        manager = KeyManager(list(keys or ()), InMemoryQuotaCounter(), clock)
        sampler = SearchSampler(
            keys=manager if keys else None,
            base_url=youtube_server.base_url,
            settings=settings,
            caps=caps,
            cache=cache,
            clock=clock,
            monotonic=time.monotonic,
            sleep=time.sleep,
            transport=time.transport,
        )
        return Rig(youtube_server, sampler, manager, caps, time, clock)

    return make


def by_hand_hits(server: YouTubeServer, query: str) -> list[dict[str, Any]]:
    """The fake's search rule applied to its data: every term in the title or a tag,
    most viewed first."""
    terms = query.split()
    hits = [
        v
        for v in server.data.videos.values()
        if all(
            t in v["snippet"]["title"].casefold()
            or any(t in tag.casefold() for tag in v["snippet"].get("tags", []))
            for t in terms
        )
    ]
    return sorted(hits, key=lambda v: -int(v["statistics"].get("viewCount", 0)))


def test_sampled_numbers_equal_the_fake_data_by_hand(make_rig: MakeRig) -> None:
    rig = make_rig()

    sampling = rig.sampler.sample(["sql"], client_id="c1", ip_hash="ip1")

    hits = by_hand_hits(rig.server, "sql")
    top = hits[:25]
    search = sampling.searches["sql"]
    assert search.sampled and not search.from_cache and search.reason is None
    assert search.total_results == len(hits) == 129  # pageInfo.totalResults
    assert search.observed_at == START
    assert [r.video_id for r in search.results] == [v["id"] for v in top]
    titles = {fake_channel_id(t): t for t in SUBSCRIBERS}
    for r, v in zip(search.results, top, strict=True):
        assert r.views == int(v["statistics"]["viewCount"])
        assert r.published_at == datetime.fromisoformat(v["snippet"]["publishedAt"])
        expected = SUBSCRIBERS.get(titles.get(r.channel_id, ""))
        assert r.channel_subscribers == expected

    # The formulas, by hand, on those 25 results.
    views = [int(v["statistics"]["viewCount"]) for v in top]
    ages = [
        max(
            1.0,
            (START - datetime.fromisoformat(v["snippet"]["publishedAt"])).total_seconds() / 86400,
        )
        for v in top
    ]
    subs = [s for s in (r.channel_subscribers for r in search.results) if s is not None]
    assert len(subs) == 24  # TechWorld with Nana hides its count
    big = sum(1 for s in subs if s >= 100_000) / len(subs)
    competition = round(
        100
        * (
            0.4 * min(1, math.log10(1 + statistics.median(subs)) / 6)
            + 0.4 * min(1, math.log10(1 + statistics.median(views)) / 7)
            + 0.2 * big
        )
    )
    figures = search_figures(search.results, as_of=START)
    assert figures.competition == competition
    assert figures.demand == pytest.approx(
        statistics.median(v / a for v, a in zip(views, ages, strict=True))
    )

    # One search.list (order=relevance), one videos.list, one channels.list: 102 units.
    (request,) = rig.server.requests_to("search")
    assert request.params | {"key": "-"} == {
        "part": "snippet",
        "type": "video",
        "order": "relevance",
        "q": "sql",
        "maxResults": "25",
        "key": "-",
    }
    assert len(rig.server.requests_to("videos")) == 1
    (channels,) = rig.server.requests_to("channels")
    assert channels.params["part"] == "statistics"
    assert sampling.units_spent == 102 and sampling.searches_made == 1
    assert rig.keys.units_today("key-a") == 102 == rig.server.units_used["key-a"]
    assert rig.caps.per_client.used(client_id="c1") == 1  # type: ignore[attr-defined]


def test_a_repeat_is_served_from_the_cache_with_no_request(make_rig: MakeRig) -> None:
    rig = make_rig()
    first = rig.sampler.sample(["Power  BI"], client_id="c1", ip_hash="ip1")
    requests = len(rig.server.requests)

    again = rig.sampler.sample(["power bi"], client_id="c2", ip_hash="ip2")

    assert len(rig.server.requests) == requests  # no new request of any kind
    assert rig.server.requests_to("search") and len(rig.server.requests_to("search")) == 1
    hit = again.searches["power bi"]
    assert hit.sampled and hit.from_cache
    assert hit.results == first.searches["Power  BI"].results
    assert hit.total_results == first.searches["Power  BI"].total_results
    assert again.units_spent == 0 and again.searches_made == 0
    assert rig.keys.units_today("key-a") == 102
    assert rig.caps.per_client.used(client_id="c2") == 0  # type: ignore[attr-defined]


def test_only_the_top_keywords_are_searched_but_any_cached_one_is_served(
    make_rig: MakeRig,
) -> None:
    rig = make_rig(sample_size=2)
    rig.sampler.sample(["pandas"], client_id="c1", ip_hash=None)

    sampling = rig.sampler.sample(
        ["power bi", "sql", "excel", "pandas"], client_id="c1", ip_hash=None
    )

    assert [k for k, s in sampling.searches.items() if s.sampled] == ["power bi", "sql", "pandas"]
    assert sampling.searches["pandas"].from_cache
    assert sampling.searches["excel"].reason == (
        "not sampled: only the top 2 keywords are searched on YouTube per request"
    )
    assert [r.params["q"] for r in rig.server.requests_to("search")] == [
        "pandas",
        "power bi",
        "sql",
    ]
    assert sampling.units_spent == 2 * 102


@pytest.mark.parametrize(
    ("caps", "scope"),
    [
        ({"client_daily_cap": 1}, "per client"),
        ({"ip_daily_cap": 1}, "per network address"),
        ({"global_daily_cap": 1}, "for the whole service"),
    ],
)
def test_a_cap_gives_not_sampled_naming_it(
    make_rig: MakeRig, caps: dict[str, int], scope: str
) -> None:
    rig = make_rig(**caps)

    sampling = rig.sampler.sample(["power bi", "sql", "excel"], client_id="c1", ip_hash="ip1")

    assert sampling.searches["power bi"].sampled
    for keyword in ("sql", "excel"):
        reason = sampling.searches[keyword].reason or ""
        assert reason.startswith(f"not sampled: daily cap of 1 YouTube keyword searches {scope}")
        assert "2026-01-07 08:00 UTC" in reason  # the next Pacific midnight
    assert len(rig.server.requests_to("search")) == 1
    # A refused search is given back to the caps that had counted it.
    assert rig.caps.per_client.used(client_id="c1") == 1  # type: ignore[attr-defined]
    assert rig.caps.per_ip.used(client_id="ip1") == 1  # type: ignore[attr-defined]
    assert rig.caps.whole_service.used(client_id="all") == 1  # type: ignore[attr-defined]


def test_caps_count_per_pacific_day(make_rig: MakeRig) -> None:
    rig = make_rig(client_daily_cap=1)
    rig.sampler.sample(["power bi"], client_id="c1", ip_hash="ip1")
    assert not rig.sampler.sample(["sql"], client_id="c1", ip_hash="ip1").searches["sql"].sampled
    assert rig.sampler.sample(["sql"], client_id="c2", ip_hash="ip1").searches["sql"].sampled

    rig.clock.now = datetime.fromisoformat("2026-01-07T08:00:00+00:00")  # next Pacific day
    assert rig.sampler.sample(["excel"], client_id="c1", ip_hash="ip1").searches["excel"].sampled


def test_a_youtube_outage_degrades_to_not_sampled_with_the_reason(make_rig: MakeRig) -> None:
    rig = make_rig()
    rig.server.fail("500", times=4)

    sampling = rig.sampler.sample(["power bi", "sql"], client_id="c1", ip_hash="ip1")

    for search in sampling.searches.values():
        assert not search.sampled
        assert search.reason == (
            "not sampled: YouTube is unavailable (YouTube kept failing: HTTP 500 backendError)"
        )
    assert rig.time.sleeps == [1.0, 2.0, 4.0]  # the client's back-off, within the budget
    assert len(rig.server.requests_to("search")) == 4  # and no try for the next keyword
    assert sampling.units_spent == 0 and rig.keys.units_today("key-a") == 0
    assert rig.caps.per_client.used(client_id="c1") == 0  # type: ignore[attr-defined]


def test_every_key_out_of_quota_degrades_to_not_sampled(make_rig: MakeRig) -> None:
    rig = make_rig()
    rig.server.quota_limits.update({"key-a": 50, "key-b": 50})  # a search costs 100

    sampling = rig.sampler.sample(["power bi"], client_id="c1", ip_hash="ip1")

    assert sampling.searches["power bi"].reason == (
        "not sampled: YouTube is unavailable (every YouTube API key is out of quota or "
        "rate-limited)"
    )
    assert rig.keys.parked_until("key-a") is not None and rig.keys.parked_until("key-b")
    assert sampling.units_spent == 0


def test_the_time_budget_cuts_timeouts_and_stops_the_sample(make_rig: MakeRig) -> None:
    rig = make_rig(time_budget_s=8.0, request_timeout_s=3.0)
    rig.time.per_request = 6.0  # each request takes 6 of the 8 seconds

    sampling = rig.sampler.sample(["power bi", "sql"], client_id="c1", ip_hash="ip1")

    # search.list got the full 3 s, videos.list the 2 s left, channels.list never went.
    assert rig.time.timeouts == [3.0, 2.0]
    assert rig.server.requests_to("channels") == []
    for keyword in ("power bi", "sql"):
        assert sampling.searches[keyword].reason == "not sampled: time budget (8 s) spent"
    assert sampling.units_spent == 101  # the search was made (and charged)
    assert rig.caps.per_client.used(client_id="c1") == 1  # type: ignore[attr-defined]


def test_a_back_off_that_would_pass_the_budget_is_not_slept(make_rig: MakeRig) -> None:
    rig = make_rig(time_budget_s=6.0)
    rig.server.fail("500", times=4)

    sampling = rig.sampler.sample(["power bi"], client_id="c1", ip_hash="ip1")

    assert rig.time.sleeps == [1.0, 2.0]  # 4 s more would end past the 6 s budget
    assert sampling.searches["power bi"].reason == "not sampled: time budget (6 s) spent"
    assert rig.caps.per_client.used(client_id="c1") == 0  # type: ignore[attr-defined]


def test_without_keys_nothing_is_sampled_and_the_output_says_why(make_rig: MakeRig) -> None:
    rig = make_rig(keys=None)

    sampling = rig.sampler.sample(["power bi"], client_id="c1", ip_hash="ip1")

    assert sampling.available is False
    assert "YOUTUBE_API_KEYS" in (sampling.note or "")
    assert sampling.searches["power bi"].reason == "not sampled: no YouTube API key is configured"
    assert rig.server.requests == []


async def test_the_async_entry_point_runs_the_sample_off_the_event_loop(
    make_rig: MakeRig,
) -> None:
    rig = make_rig()

    sampling = await rig.sampler.asample(["power bi", "power bi"], client_id="c1", ip_hash=None)

    assert list(sampling.searches) == ["power bi"] and sampling.searches["power bi"].sampled
    assert key_fingerprint("key-a") in {s.key_id for s in rig.keys.statuses()}


# -- Redis: the cache and the caps shared by processes ------------------------------


@pytest.fixture
def prefix() -> Iterator[str]:
    from django.conf import settings

    name = f"test-keyword-sample:{uuid.uuid4().hex}"
    yield name
    connection = redis.Redis.from_url(str(settings.REDIS_URL))
    for key in connection.scan_iter(f"*{name}*"):
        connection.delete(key)
    connection.close()


def shared(prefix: str, clock: FakeClock) -> tuple[RedisCache, SearchCaps]:
    from django.conf import settings

    connection = redis.Redis.from_url(str(settings.REDIS_URL))
    cache = RedisCache(str(settings.REDIS_URL), {"KEY_PREFIX": prefix})
    caps = SearchCaps(
        **{
            name: RedisSearchCap(
                redis_client=connection, limit=limit, clock=clock, key_prefix=f"{prefix}:{name}"
            )
            for name, limit in (("per_client", 5), ("per_ip", 1), ("whole_service", 5))
        }
    )
    return cache, caps


@pytest.mark.redis
def test_two_processes_share_the_cache_and_the_caps_in_redis(
    make_rig: MakeRig, prefix: str
) -> None:
    # Real time: Redis expires the caps' keys on its own clock.
    clock = FakeClock(utc_now())
    cache, caps = shared(prefix, clock)
    first = make_rig(clock=clock, cache=cache, caps=caps)
    cache, caps = shared(prefix, clock)  # another process: its own connections
    second = make_rig(clock=clock, cache=cache, caps=caps)

    sampled = first.sampler.sample(["sql"], client_id="c1", ip_hash="ip1")
    requests = len(first.server.requests)
    again = second.sampler.sample(["sql", "excel"], client_id="c1", ip_hash="ip1")

    assert sampled.searches["sql"].sampled and not sampled.searches["sql"].from_cache
    assert again.searches["sql"].from_cache
    assert again.searches["sql"].results == sampled.searches["sql"].results
    # The address's one search a day was spent in the other process.
    assert (again.searches["excel"].reason or "").startswith(
        "not sampled: daily cap of 1 YouTube keyword searches per network address"
    )
    assert len(first.server.requests) == requests
    # The refused search was given back to the client's cap, which had counted it.
    assert caps.per_client.used(client_id="c1") == 1  # type: ignore[attr-defined]
    assert caps.per_ip.used(client_id="ip1") == 1  # type: ignore[attr-defined]
    assert caps.whole_service.used(client_id="all") == 1  # type: ignore[attr-defined]
