"""Text deltas, coalesced: a stop that lands while a delta is going out does not lose it,
so a stopped answer (all the text so far) never holds words the stream did not show."""

from __future__ import annotations

import asyncio

import pytest

from backend.runs.coalesce import DeltaCoalescer


async def test_a_stop_during_a_deltas_emit_still_sends_it() -> None:
    sent: list[str] = []
    going_out = asyncio.Event()
    may_finish = asyncio.Event()

    async def emit(type: str, data: dict) -> None:
        going_out.set()
        await may_finish.wait()  # the log's append, slow under load
        sent.append(data["text"])

    coalescer = DeltaCoalescer(message_id="m", window_s=0.0, emit=emit)
    task = asyncio.ensure_future(coalescer.add("espresso "))
    await going_out.wait()
    task.cancel()  # the client's Stop
    await asyncio.sleep(0)
    may_finish.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert sent == ["espresso "]
    assert coalescer.text == "".join(sent)


async def test_deltas_within_a_window_go_out_as_one() -> None:
    sent: list[str] = []
    now = [0.0]

    async def emit(type: str, data: dict) -> None:
        sent.append(data["text"])

    coalescer = DeltaCoalescer(message_id="m", window_s=0.05, emit=emit, clock=lambda: now[0])
    now[0] = 1.0
    await coalescer.add("a ")  # the window since the last send has passed: out at once
    await coalescer.add("b ")
    await coalescer.add("c ")
    assert sent == ["a "]
    await coalescer.flush()
    assert sent == ["a ", "b c "] and coalescer.text == "a b c "
