"""Riding out a short outage of the budget store inside a run.

A run has already been accepted (202): a Redis restart of a few seconds should not fail
it. Its model calls' reserves (``agents.models.GuardedChatModel``) and its approval checks'
budget reads (``backend.chat.approvals``) ask the store again every ``STORE_OUTAGE_POLL_S``
for up to ``STORE_OUTAGE_WAIT_S`` — about as long as the run's event log rides out the
same outage — before the run fails ``AI_SERVICE_UNAVAILABLE``. An HTTP request answers 503
with ``Retry-After`` at once instead.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from agents.guard.interface import GuardUnavailableError

STORE_OUTAGE_WAIT_S = 16.0
STORE_OUTAGE_POLL_S = 1.0

T = TypeVar("T")
logger = logging.getLogger(__name__)


async def outlasting_store_outage(
    call: Callable[[], Awaitable[T]],
    *,
    wait_s: float = STORE_OUTAGE_WAIT_S,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """``call()``, asked again while the budget store cannot be reached, for up to
    ``wait_s``; then its ``GuardUnavailableError`` is raised. For calls that change
    nothing when the store is away (reads, and reserves, which record nothing then)."""
    until = time.monotonic() + wait_s
    while True:
        try:
            return await call()
        except GuardUnavailableError:
            left = until - time.monotonic()
            if left <= 0:
                raise
            logger.warning("budget store unreachable; the run asks again shortly")
            await sleep(min(STORE_OUTAGE_POLL_S, left))
