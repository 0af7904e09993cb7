"""A run waiting for an offloaded tool call whose task was lost sends it again.

Before: a tool task that failed on a Redis restart (Celery acks it: it raised, its worker
did not die) left the run waiting until its deadline (``RUN_TIMEOUT`` after 300 s)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from backend.chat import tool_calls
from backend.chat.tool_calls import ToolCallStore

pytestmark = pytest.mark.redis


def test_an_unclaimed_call_is_sent_again_and_its_result_ends_the_wait(monkeypatch):
    monkeypatch.setattr(tool_calls, "RESEND_AFTER_S", 0.3)
    monkeypatch.setattr(tool_calls, "WAIT_SLICE_S", 0.1)
    store = ToolCallStore(run_id=str(uuid.uuid4()), call_id="call_1")
    sent: list[float] = []

    async def scenario():
        async def resend() -> None:  # what the re-sent task does: run the call, store it
            sent.append(asyncio.get_running_loop().time())
            await store.put({"ok": True, "output": {"hashtags": ["#espresso"]}})

        return await asyncio.wait_for(store.wait(resend=resend), timeout=10)

    record = asyncio.run(scenario())
    assert record["output"] == {"hashtags": ["#espresso"]}
    assert len(sent) == 1


def test_a_claimed_call_is_not_sent_again(monkeypatch):
    monkeypatch.setattr(tool_calls, "RESEND_AFTER_S", 0.2)
    monkeypatch.setattr(tool_calls, "WAIT_SLICE_S", 0.1)
    store = ToolCallStore(run_id=str(uuid.uuid4()), call_id="call_1")
    sent: list[str] = []

    async def scenario():
        assert await store.claim("a-tool-task", ttl_s=30)

        async def resend() -> None:
            sent.append("again")

        async def finish_later() -> None:
            await asyncio.sleep(1.0)  # five resend windows, all while claimed
            await store.put({"ok": True, "output": {}})

        task = asyncio.create_task(finish_later())
        record = await asyncio.wait_for(store.wait(resend=resend), timeout=10)
        await task
        await store.release("a-tool-task")
        return record

    assert asyncio.run(scenario())["ok"] is True
    assert sent == []
