"""An OpenAI-compatible moderation endpoint (``POST <base>/moderations``) over httpx.

Request ``{"model", "input": [texts]}``; the answer has one result per text in order,
each ``{flagged, categories: {name: bool}, category_scores: {name: float}}`` (OpenAI's
``omni-moderation-latest`` and ``text-moderation-*``, and servers that copy them). Category
names are kept as the server gives them, so new ones need no code.

One attempt, no retries, bounded: each network wait (connect, send, each read) by
``timeout_s``, and a reply still arriving ``timeout_s`` after the call began is given up.
Anything but a well-formed 200 in time is ``ModerationUnavailable``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from agents.moderation.verdict import (
    ModerationPolicy,
    ModerationUnavailable,
    Verdict,
    first_refusal,
)

# A reply is a few hundred bytes per text; a larger one is not a moderation answer.
MAX_REPLY_BYTES = 1024 * 1024


def moderations_url(base_url: str) -> str:
    """``https://api.openai.com/v1`` → ``https://api.openai.com/v1/moderations``; a URL that
    already ends in ``/moderations`` is kept."""
    url = base_url.rstrip("/")
    return url if url.endswith("/moderations") else f"{url}/moderations"


class EndpointModerator:
    """``Moderator`` over an OpenAI-compatible endpoint. Safe to share between threads
    (one pooled ``httpx.Client``)."""

    def __init__(
        self,
        *,
        base_url: str,
        api_key: str | None,
        model: str,
        timeout_s: float,
        policy: ModerationPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = moderations_url(base_url)
        self.model = model
        self.timeout_s = timeout_s
        self.policy = policy or ModerationPolicy()
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            transport=transport,
        )

    @property
    def source(self) -> str:
        return f"endpoint:{self.model}" if self.model else "endpoint"

    def close(self) -> None:
        self._client.close()

    def check(self, texts: Sequence[str]) -> Verdict:
        if not texts:
            return Verdict(flagged=False, source=self.source)
        body: dict[str, Any] = {"input": list(texts)}
        if self.model:
            body["model"] = self.model
        payload = self._post(body)
        results = _results(payload, expected=len(texts))
        return first_refusal(results, policy=self.policy, source=self.source)

    def _post(self, body: dict[str, Any]) -> Any:
        deadline = time.monotonic() + self.timeout_s
        try:
            with self._client.stream("POST", self.url, json=body) as response:
                if response.status_code != 200:
                    raise ModerationUnavailable(
                        f"HTTP {response.status_code}",
                        retry_after_s=_retry_after(response.headers.get("retry-after")),
                    )
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if time.monotonic() > deadline:
                        raise ModerationUnavailable("timed out")
                    if len(data) > MAX_REPLY_BYTES:
                        raise ModerationUnavailable("reply too large")
        except httpx.TimeoutException:
            raise ModerationUnavailable("timed out") from None
        except httpx.HTTPError as exc:
            raise ModerationUnavailable(type(exc).__name__) from None
        try:
            return json.loads(bytes(data))
        except ValueError:
            raise ModerationUnavailable("malformed reply") from None


def _results(
    payload: Any, *, expected: int
) -> list[tuple[Mapping[str, bool], Mapping[str, float]]]:
    results = payload.get("results") if isinstance(payload, dict) else None
    if not isinstance(results, list) or len(results) != expected:
        raise ModerationUnavailable("malformed reply: results")
    parsed: list[tuple[Mapping[str, bool], Mapping[str, float]]] = []
    for result in results:
        if not isinstance(result, dict) or not isinstance(result.get("flagged"), bool):
            raise ModerationUnavailable("malformed reply: result")
        categories = result.get("categories", {})
        scores = result.get("category_scores", {})
        if not isinstance(categories, dict) or not isinstance(scores, dict):
            raise ModerationUnavailable("malformed reply: categories")
        flags = {str(name): value is True for name, value in categories.items()}
        numbers = {
            str(name): float(value)
            for name, value in scores.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
        if result["flagged"] and not any(flags.values()):
            # Flagged without saying why: refuse under a name of its own, never let it by.
            flags["unspecified"] = True
        parsed.append((flags, numbers))
    return parsed


def _retry_after(value: str | None) -> float | None:
    try:
        seconds = float(value) if value else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 < seconds < 3600 else None
