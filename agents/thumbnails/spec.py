"""What a thumbnail request is, what a provider promises, and what the chain hands back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, kw_only=True)
class ThumbnailSpec:
    prompt: str  # what to draw
    title: str = ""  # the video title (the offline card renders it; else the prompt)
    width: int = 1280
    height: int = 720
    seed: int | None = None
    # Optional; Replicate gets it as a data URI input "image"; the others ignore it.
    reference_image: bytes | None = None

    def __post_init__(self) -> None:
        if self.width <= 0 or self.height <= 0:
            raise ValueError(f"thumbnail size must be positive, got {self.width}×{self.height}")


@dataclass(frozen=True, kw_only=True)
class ProviderAttempt:
    provider: str
    ok: bool
    error: str | None  # short reason: "timeout after 20 s", "HTTP 500", "refused: NSFW", ...
    duration_ms: int


@dataclass(frozen=True, kw_only=True)
class GeneratedImage:
    png: bytes  # always PNG, exactly width × height
    provider: str  # "replicate" | "pollinations" | "offline"
    model: str
    width: int
    height: int
    offline: bool  # True only for the offline renderer
    attempts: tuple[ProviderAttempt, ...]  # every provider tried, in order, the winner last


class ThumbnailProvider(Protocol):
    """One way to make an image. ``generate`` returns bytes in any format Pillow reads.

    A provider may also carry ``timeout_s: float | None``; the chain bounds each attempt
    by it (``None`` or absent: no bound).
    """

    name: str
    model: str
    paid: bool

    async def generate(self, spec: ThumbnailSpec) -> bytes: ...


class ProviderError(Exception):
    """A provider could not make the image; the message is the short reason.

    Raised by the chain when every provider failed, with ``attempts`` filled in.
    """

    def __init__(self, message: str, *, attempts: tuple[ProviderAttempt, ...] = ()) -> None:
        super().__init__(message)
        self.attempts = attempts


class ProviderTimeoutError(ProviderError):
    """The provider's own deadline passed; the work may have been done (and billed)."""
