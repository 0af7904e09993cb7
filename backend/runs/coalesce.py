"""Coalesce text deltas: at most one ``message.delta`` per window keeps event counts bounded."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class DeltaCoalescer:
    def __init__(
        self,
        *,
        message_id: str,
        window_s: float,
        emit: Callable[[str, dict], Awaitable[None]],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.message_id = message_id
        self._window_s = window_s
        self._emit = emit
        self._clock = clock
        self._buffer: list[str] = []
        self._last_sent = 0.0
        self.text_parts: list[str] = []

    async def add(self, text: str) -> None:
        if not text:
            return
        self._buffer.append(text)
        self.text_parts.append(text)
        if self._clock() - self._last_sent >= self._window_s:
            await self.flush()

    async def flush(self) -> None:
        if not self._buffer:
            return
        text, self._buffer = "".join(self._buffer), []
        self._last_sent = self._clock()
        # Taken from the buffer, the text goes out even if the run is stopped meanwhile: a
        # stopped answer keeps all of ``text``, so none of it may be missing from the deltas
        # (a stop that landed mid-emit lost that delta, and the answer had words the
        # stream never showed).
        sending = asyncio.ensure_future(
            self._emit("message.delta", {"message_id": self.message_id, "text": text})
        )
        try:
            await asyncio.shield(sending)
        except asyncio.CancelledError:
            await sending
            raise

    def reset(self) -> None:
        """Forget the text so far (the model that wrote it failed; another answers)."""
        self._buffer = []
        self.text_parts = []

    @property
    def text(self) -> str:
        return "".join(self.text_parts)
