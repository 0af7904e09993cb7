"""Thumbnail concepts at YouTube's 1280×720 through a chain of image providers.

Replicate (paid) first, Pollinations (free) next, and an offline Pillow title card last,
so a request always completes; the result names the provider that made it and every
attempt before it. Django-free, like the rest of ``agents``.
"""

from agents.thumbnails.chain import ProviderChain, Reserve, Settle, default_chain, to_png
from agents.thumbnails.offline import OfflineRenderer, render_title_card
from agents.thumbnails.providers import PollinationsProvider, ReplicateProvider
from agents.thumbnails.spec import (
    GeneratedImage,
    ProviderAttempt,
    ProviderError,
    ProviderTimeoutError,
    ThumbnailProvider,
    ThumbnailSpec,
)

__all__ = [
    "GeneratedImage",
    "OfflineRenderer",
    "PollinationsProvider",
    "ProviderAttempt",
    "ProviderChain",
    "ProviderError",
    "ProviderTimeoutError",
    "ReplicateProvider",
    "Reserve",
    "Settle",
    "ThumbnailProvider",
    "ThumbnailSpec",
    "default_chain",
    "render_title_card",
    "to_png",
]
