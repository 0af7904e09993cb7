"""The provider chain: try each provider in order and keep the first image that works.

Any failure of an attempt (an error reply, a refusal, a timeout, bytes Pillow cannot
read) is recorded and the next provider runs; with the offline renderer last, a request
always completes. Paid attempts are wrapped in the caller's ``reserve`` / ``settle``
hooks; an exception from ``reserve`` (a budget refusal) ends the request unchanged.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

import httpx
from PIL import Image, ImageOps, UnidentifiedImageError

from agents.thumbnails.offline import OfflineRenderer
from agents.thumbnails.providers import (
    POLLINATIONS_BASE_URL,
    REPLICATE_BASE_URL,
    PollinationsProvider,
    ReplicateProvider,
)
from agents.thumbnails.spec import (
    GeneratedImage,
    ProviderAttempt,
    ProviderError,
    ProviderTimeoutError,
    ThumbnailProvider,
    ThumbnailSpec,
)

Reserve = Callable[[ThumbnailProvider], Awaitable[Any]]
_REASON_CHARS = 200


class Settle(Protocol):
    def __call__(self, token: Any, /, *, billed: bool) -> Awaitable[object]: ...


class ProviderChain:
    def __init__(
        self,
        providers: Sequence[ThumbnailProvider],
        *,
        reserve: Reserve | None = None,
        settle: Settle | None = None,
    ) -> None:
        if not providers:
            raise ValueError("a provider chain needs at least one provider")
        self.providers = tuple(providers)
        self._reserve = reserve
        self._settle = settle

    async def generate(self, spec: ThumbnailSpec) -> GeneratedImage:
        attempts: list[ProviderAttempt] = []
        for provider in self.providers:
            reserved = provider.paid and self._reserve is not None
            # Outside the attempt's error handling: a refusal here is the caller's to answer.
            token = await self._reserve(provider) if provider.paid and self._reserve else None
            started = time.monotonic()
            billed = True  # unless the provider said no: it may have made (and billed) it
            try:
                png = await self._attempt(provider, spec)
            except Exception as exc:
                billed = _maybe_billed(exc)
                attempts.append(
                    ProviderAttempt(
                        provider=provider.name,
                        ok=False,
                        error=_reason(exc, provider),
                        duration_ms=_ms_since(started),
                    )
                )
                continue
            finally:
                if reserved and self._settle is not None:
                    await self._settle(token, billed=billed)
            attempts.append(
                ProviderAttempt(
                    provider=provider.name, ok=True, error=None, duration_ms=_ms_since(started)
                )
            )
            return GeneratedImage(
                png=png,
                provider=provider.name,
                model=provider.model,
                width=spec.width,
                height=spec.height,
                offline=isinstance(provider, OfflineRenderer),
                attempts=tuple(attempts),
            )
        summary = "; ".join(f"{a.provider}: {a.error}" for a in attempts)
        raise ProviderError(f"every provider failed: {summary}", attempts=tuple(attempts))

    async def _attempt(self, provider: ThumbnailProvider, spec: ThumbnailSpec) -> bytes:
        timeout_s: float | None = getattr(provider, "timeout_s", None)
        async with asyncio.timeout(timeout_s):
            image = await provider.generate(spec)
        # Outside the deadline: the image is in hand (and paid for) once the provider answers.
        return await asyncio.to_thread(to_png, image, width=spec.width, height=spec.height)


def to_png(image: bytes, *, width: int, height: int) -> bytes:
    """``image`` (any format Pillow reads) as a PNG of exactly ``width`` × ``height``.

    Another size is scaled to cover the frame and cropped about the centre.
    """
    with Image.open(io.BytesIO(image)) as source:
        if source.format == "PNG" and source.size == (width, height):
            source.verify()  # a truncated or corrupt PNG must fail here, not downstream
            return image
        source.load()
        frame = source.convert("RGBA" if _has_alpha(source) else "RGB")
    fitted = ImageOps.fit(frame, (width, height), method=Image.Resampling.LANCZOS)
    out = io.BytesIO()
    fitted.save(out, format="PNG")
    return out.getvalue()


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _maybe_billed(exc: Exception) -> bool:
    """False only when the provider answered that it made nothing (an error or refusal)."""
    if isinstance(exc, ProviderTimeoutError | TimeoutError | httpx.TimeoutException):
        return True
    # Anything else (an unreadable image, a dropped connection): it may have been made.
    return not isinstance(exc, ProviderError | httpx.ConnectError)


def _reason(exc: Exception, provider: ThumbnailProvider) -> str:
    if isinstance(exc, ProviderError):
        text = str(exc)
    elif isinstance(exc, TimeoutError | httpx.TimeoutException):
        timeout_s = getattr(provider, "timeout_s", None)
        text = f"timeout after {timeout_s:g} s" if timeout_s is not None else "timeout"
    elif isinstance(exc, UnidentifiedImageError):
        text = "unreadable image"
    else:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    text = " ".join(text.split())
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 1] + "…"


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def default_chain(
    *,
    replicate_token: str | None,
    replicate_base_url: str = REPLICATE_BASE_URL,
    replicate_model: str = "black-forest-labs/flux-schnell",
    replicate_timeout_s: float = 60.0,
    replicate_poll_interval_s: float = 1.0,
    pollinations_base_url: str = POLLINATIONS_BASE_URL,
    pollinations_enabled: bool = True,
    pollinations_model: str = "flux",
    pollinations_timeout_s: float = 30.0,
    http: httpx.AsyncClient | None = None,
    reserve: Reserve | None = None,
    settle: Settle | None = None,
) -> ProviderChain:
    """Replicate when a token is given, then Pollinations when enabled, then offline."""
    providers: list[ThumbnailProvider] = []
    if replicate_token:
        providers.append(
            ReplicateProvider(
                api_token=replicate_token,
                base_url=replicate_base_url,
                model=replicate_model,
                timeout_s=replicate_timeout_s,
                poll_interval_s=replicate_poll_interval_s,
                http=http,
            )
        )
    if pollinations_enabled:
        providers.append(
            PollinationsProvider(
                base_url=pollinations_base_url,
                model=pollinations_model,
                timeout_s=pollinations_timeout_s,
                http=http,
            )
        )
    providers.append(OfflineRenderer())
    return ProviderChain(providers, reserve=reserve, settle=settle)
