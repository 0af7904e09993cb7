"""Reading SSE and AI SDK streams in tests."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from asgiref.sync import async_to_sync
from django.test import AsyncClient

from backend.runs.eventlog import Event, get_event_log


def parse_sse(raw: bytes) -> list[dict[str, Any]]:
    frames = []
    for block in raw.decode().split("\n\n"):
        if not block.strip() or block.startswith(":"):
            continue
        fields: dict[str, Any] = {}
        for line in block.splitlines():
            name, _, value = line.partition(": ")
            fields[name] = value
        if fields.get("data") and fields["data"] != "[DONE]":
            fields["payload"] = json.loads(fields["data"])
        frames.append(fields)
    return frames


async def collect(url: str, *, until: int = 1, timeout: float = 30, **headers: str) -> list[dict]:
    """Read an SSE stream until it ends or ``until`` terminal run events arrived."""
    response = await AsyncClient().get(url, headers=headers)
    assert response.status_code == 200, response.content
    buffer = b""
    terminal = 0

    async def read() -> None:
        nonlocal buffer, terminal
        async for chunk in response.streaming_content:
            buffer += chunk
            terminal += chunk.count(b"event: run.completed") + chunk.count(b"event: run.failed")
            terminal += chunk.count(b"event: run.cancelled")
            if terminal >= until:
                return

    await asyncio.wait_for(read(), timeout=timeout)
    return parse_sse(buffer)


def logged_events(run_id: str) -> list[Event]:
    """Everything the run's event log holds now (no waiting)."""
    return async_to_sync(get_event_log().read)(run_id=run_id, after_seq=0, timeout_s=0.05) or []
