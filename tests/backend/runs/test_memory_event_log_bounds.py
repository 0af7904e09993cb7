"""The embedded event log is bounded: a size cap (events, estimated bytes) that drops the
runs that finished longest ago first and never a live one, time expiry, and appends whose
cost does not grow with the number of runs it holds."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.runs.eventlog.memory import EVENT_OVERHEAD_BYTES, MemoryEventLog


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(log: MemoryEventLog, run_id: str, *, events: int, finish: bool = True) -> None:
    for n in range(events - 1 if finish else events):
        log.append(run_id=run_id, type="message.delta", attempt=1, data={"text": f"{n}"})
    if finish:
        log.append(run_id=run_id, type="run.completed", attempt=1, data={})


async def test_over_the_event_cap_the_oldest_finished_run_goes_first():
    log = MemoryEventLog(retention_s=3600, max_events=10)
    run(log, "a", events=4)
    run(log, "b", events=4)
    run(log, "live", events=3, finish=False)  # 11 events: over the cap
    assert log.last_seq(run_id="a") == 0
    assert log.last_seq(run_id="b") == 4
    assert log.last_seq(run_id="live") == 3
    # A reader of the dropped run is told its cursor cannot be honoured (stream.reset).
    assert await log.read(run_id="a", after_seq=2, timeout_s=0) is None
    assert log.stats()["events"] == 7


def test_a_live_run_is_never_dropped_for_size():
    log = MemoryEventLog(retention_s=3600, max_events=10)
    run(log, "done", events=2)
    run(log, "long", events=30, finish=False)
    assert log.last_seq(run_id="done") == 0
    assert [e.seq for e in log.range(run_id="long")] == list(range(1, 31))
    log.append(run_id="long", type="run.completed", attempt=1, data={})
    run(log, "next", events=1)  # now the finished long run is the oldest finished one
    assert log.last_seq(run_id="long") == 0
    assert log.last_seq(run_id="next") == 1


def test_the_byte_cap_counts_each_events_json():
    size = EVENT_OVERHEAD_BYTES + len('{"text":"xxxxxxxxxx"}')
    log = MemoryEventLog(retention_s=3600, max_bytes=5 * size)
    for run_id in ("a", "b", "c"):
        log.append(run_id=run_id, type="message.delta", attempt=1, data={"text": "x" * 10})
        log.append(run_id=run_id, type="run.completed", attempt=1, data={"text": "x" * 10})
    assert log.last_seq(run_id="a") == 0
    assert log.stats() == {"runs": 2, "finished_runs": 2, "events": 4, "bytes": 4 * size}


def test_runs_expire_after_the_retention_from_their_last_event():
    clock = Clock()
    log = MemoryEventLog(retention_s=100, clock=clock)
    run(log, "old", events=2)
    clock.now += 60
    run(log, "newer", events=1, finish=False)
    clock.now += 50  # "old" is 110 s untouched, "newer" 50 s
    run(log, "trigger", events=1)
    assert log.last_seq(run_id="old") == 0
    assert log.last_seq(run_id="newer") == 1
    assert log.stats()["runs"] == 2


def test_delete_gives_the_space_back():
    log = MemoryEventLog(retention_s=3600, max_events=5)
    run(log, "a", events=3)
    log.delete(run_id="a")
    assert log.stats() == {"runs": 0, "finished_runs": 0, "events": 0, "bytes": 0}


class CountingTime(float):
    """A timestamp that counts how often the log compares it (expiry checks)."""

    comparisons = 0

    def __lt__(self, other: object) -> bool:
        CountingTime.comparisons += 1
        return float(self) < float(other)  # type: ignore[arg-type]


def test_an_append_does_not_look_at_every_run_it_holds():
    clock_now = [1000.0]
    log = MemoryEventLog(retention_s=3600, clock=lambda: CountingTime(clock_now[0]))
    for n in range(5000):
        clock_now[0] += 0.001
        log.append(run_id=f"run-{n}", type="run.completed", attempt=1, data={})
    CountingTime.comparisons = 0
    for n in range(100):
        log.append(run_id="busy", type="message.delta", attempt=1, data={"n": n})
    # At most one expiry check per append (the oldest run), not one per retained run.
    assert CountingTime.comparisons <= 100
    assert log.stats()["runs"] == 5001


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(min_value=0, max_value=5), st.booleans()),
        min_size=1,
        max_size=80,
    ),
    st.integers(min_value=3, max_value=20),
)
def test_caps_hold_whenever_finished_runs_remain_and_live_runs_keep_every_event(steps, cap):
    """Any sequence of appends (run n; finishing it or not): the log is under the cap
    unless only live runs are left, and a live run's events are 1..n with no gap."""
    log = MemoryEventLog(retention_s=3600, max_events=cap)
    appended: dict[str, int] = {}
    finished: set[str] = set()
    generation: dict[int, int] = {}
    for number, finish in steps:
        run_id = f"r{number}-{generation.get(number, 0)}"
        if run_id in finished:  # a finished run takes no more events: start the next one
            generation[number] = generation.get(number, 0) + 1
            run_id = f"r{number}-{generation[number]}"
        log.append(
            run_id=run_id, type="run.completed" if finish else "message.delta", attempt=1, data={}
        )
        appended[run_id] = appended.get(run_id, 0) + 1
        if finish:
            finished.add(run_id)
        stats = log.stats()
        assert stats["events"] <= cap or stats["finished_runs"] == 0
    for run_id, count in appended.items():
        if run_id not in finished:
            assert [e.seq for e in log.range(run_id=run_id)] == list(range(1, count + 1))


def test_the_embedded_log_takes_its_caps_from_settings(settings, env):
    from backend.runs.eventlog import get_event_log, reset_for_tests

    settings.REDIS_URL = None
    env(RUN_EVENT_LOG_MAX_EVENTS=1000)
    reset_for_tests()
    try:
        log = get_event_log()
        run(log, "first", events=600)
        run(log, "second", events=600)
        assert log.last_seq(run_id="first") == 0
        assert log.last_seq(run_id="second") == 600
    finally:
        reset_for_tests()
