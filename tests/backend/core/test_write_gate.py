"""Writes wait their turn on the event loop; reads pass them.

Before: 200 message posts at once were 200 view threads taking turns on the GIL, and
``GET /api/clients/me/`` waited among them (the soak's warm phase: p95 360 ms).
"""

from __future__ import annotations

import asyncio

from django.http import HttpResponse
from django.test import RequestFactory

from backend.core.middleware import WriteGateMiddleware


def test_writes_beyond_the_limit_wait_and_reads_do_not(env):
    env(WEB_WRITE_CONCURRENCY=2)
    running, most, order = 0, 0, []
    release = asyncio.Event()

    async def view(request):
        nonlocal running, most
        running += 1
        most = max(most, running)
        order.append(request.path)
        if request.method == "POST":
            await release.wait()
        running -= 1
        return HttpResponse("ok")

    gate = WriteGateMiddleware(view)
    factory = RequestFactory()

    async def scenario() -> None:
        posts = [asyncio.create_task(gate(factory.post(f"/w{i}"))) for i in range(5)]
        await asyncio.sleep(0.05)
        assert order == ["/w0", "/w1"]  # two writes in; three wait
        read = await asyncio.wait_for(gate(factory.get("/read")), timeout=1)
        assert read.status_code == 200  # a read went by the waiting writes
        release.set()
        await asyncio.gather(*posts)

    asyncio.run(scenario())
    assert order == ["/w0", "/w1", "/read", "/w2", "/w3", "/w4"]  # writes in arrival order
    assert most == 3  # two writes and the read
