"""Make thumbnails through the provider chain, keep them, delete them.

The chain (``agents.thumbnails``): Replicate when ``REPLICATE_API_TOKEN`` is set, then
Pollinations when ``POLLINATIONS_ENABLED``, then the offline title-card renderer, which
always completes (its images are labelled ``offline``). A paid provider's image is
reserved with the cost guard before the call at ``REPLICATE_PRICE_PER_IMAGE_USD`` (402 when
it does not fit the budgets) and settled after it: billed when it made the image or timed
out (it may still have made and billed it), released when it answered with an error.
"""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import structlog
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import transaction
from django.utils import timezone

from agents.guard import CallUsage, ModelPrice
from agents.guard.interface import CallMeta, Reservation
from agents.models import ModelCallEvent
from agents.thumbnails import (
    GeneratedImage,
    ProviderChain,
    ThumbnailProvider,
    ThumbnailSpec,
    default_chain,
)
from backend.clients.identity import Identity
from backend.core.db import released
from backend.core.errors import UpstreamUnavailableError
from backend.guard.instance import get_guard
from backend.model_calls.usage import BackendAnalytics, UsageSink
from backend.moderation.services import amoderate
from backend.thumbnails.models import Thumbnail

logger = structlog.get_logger(__name__)

MAX_COUNT = 4
DEFAULT_COUNT = 3
MAX_PROMPT_CHARS = 500
MAX_TITLE_CHARS = 200


def storage() -> Any:
    return storages["thumbnails"]


def image_price(provider: ThumbnailProvider) -> ModelPrice:
    """A paid image as the guard sees it: one "token" at the price of one image."""
    return ModelPrice(
        model_id=f"image:{provider.name}:{provider.model}",
        input_per_token=Decimal(settings.ENV.REPLICATE_PRICE_PER_IMAGE_USD),
        output_per_token=Decimal(0),
        provider=provider.name,
    )


class _GuardedImages:
    """The chain's reserve/settle hooks for one image: what it spent, on the guard, and
    each paid attempt recorded like a model call (ledger row, the run's totals, PostHog's
    ``$ai_generation``, the caller's usage sink)."""

    def __init__(self, meta: CallMeta, *, usage_sink: UsageSink | None = None) -> None:
        self.meta = meta
        self.usage_sink = usage_sink
        self.spent = Decimal(0)
        self._started: dict[str, float] = {}

    async def reserve(self, provider: ThumbnailProvider) -> Reservation:
        reservation: Reservation = await get_guard().reserve(
            meta=self.meta, model=image_price(provider), prompt_tokens_upper_bound=1, max_tokens=0
        )
        self._started[reservation.reservation_id] = time.monotonic()
        return reservation

    async def settle(self, reservation: Reservation, *, billed: bool) -> None:
        cost = await get_guard().settle(
            reservation, CallUsage(input_tokens=1 if billed else 0, is_error=not billed)
        )
        self.spent += cost
        started = self._started.pop(reservation.reservation_id, time.monotonic())
        price = reservation.model
        event = ModelCallEvent(
            model=price.model_id,
            provider=price.provider,
            # An image has no tokens: the ledger and PostHog carry its cost (as output).
            input_tokens=0,
            output_tokens=0,
            latency_s=time.monotonic() - started,
            cost_usd=cost,
            is_error=not billed,
            trace_id=self.meta.run_id,
            feature=self.meta.feature,
            session_id=self.meta.session_id,
            client_id=self.meta.client_id,
            attempt=1,
            error_type=None if billed else "ProviderError",
            reservation_id=reservation.reservation_id,
            reserved_usd=reservation.amount_usd,
        )
        analytics = BackendAnalytics(prices={price.model_id: price}, usage_sink=self.usage_sink)
        await analytics.model_call(event)


def chain_for(guarded: _GuardedImages) -> ProviderChain:
    env = settings.ENV
    timeout = env.THUMBNAIL_PROVIDER_TIMEOUT_S
    return default_chain(
        replicate_token=env.REPLICATE_API_TOKEN,
        replicate_base_url=env.REPLICATE_BASE_URL,
        replicate_model=env.REPLICATE_MODEL,
        replicate_timeout_s=timeout,
        pollinations_enabled=env.POLLINATIONS_ENABLED,
        pollinations_base_url=env.POLLINATIONS_BASE_URL,
        pollinations_model=env.POLLINATIONS_MODEL,
        pollinations_timeout_s=timeout,
        reserve=guarded.reserve,
        settle=guarded.settle,
    )


async def thumbnails_generate(
    *,
    identity: Identity,
    prompt: str,
    title: str = "",
    count: int = DEFAULT_COUNT,
    reference_image: bytes | None = None,
) -> list[Thumbnail]:
    """``count`` concepts for ``prompt`` (the video's ``title`` on the offline card), each
    kept with how it was made; a budget refusal (402) stops before anything is kept. The
    prompt and title are moderated before any provider is called."""
    await amoderate({"prompt": prompt, "title": title}, identity=identity, feature="thumbnail")
    meta = CallMeta(
        client_id=identity.client_id,
        feature="thumbnail",
        plan=identity.plan,
        ip_hash=identity.ip_hash,
        api_key_id=identity.api_key_id,
    )
    # One after another: a budget refusal stops before more images are paid for.
    made = [
        await _generate(meta, prompt=prompt, title=title, seed=index + 1, reference=reference_image)
        for index in range(count)
    ]
    return await released(_keep)(
        client_id=identity.client_id, prompt=prompt, title=title, made=made
    )


async def thumbnail_make(
    *, meta: CallMeta, prompt: str, title: str, seed: int, usage_sink: UsageSink | None = None
) -> Thumbnail:
    """One concept, kept as soon as it is made (the agent's ``thumbnail`` tool: a paid
    image is never thrown away because a later one did not fit the budget)."""
    made = await _generate(meta, prompt=prompt, title=title, seed=seed, usage_sink=usage_sink)
    rows = await released(_keep)(client_id=meta.client_id, prompt=prompt, title=title, made=[made])
    return rows[0]


def uses_network_provider() -> bool:
    """Whether the chain starts with a provider over the network (Replicate, Pollinations):
    such a call may take many seconds, so a chat run sends it to the ``long`` queue."""
    env = settings.ENV
    return bool(env.REPLICATE_API_TOKEN) or env.POLLINATIONS_ENABLED


async def _generate(
    meta: CallMeta,
    *,
    prompt: str,
    title: str,
    seed: int,
    usage_sink: UsageSink | None = None,
    reference: bytes | None = None,
) -> tuple[GeneratedImage, Decimal]:
    guarded = _GuardedImages(meta, usage_sink=usage_sink)
    spec = ThumbnailSpec(prompt=prompt, title=title, seed=seed, reference_image=reference)
    image = await chain_for(guarded).generate(spec)
    return image, guarded.spent


def _keep(
    *, client_id: str, prompt: str, title: str, made: list[tuple[GeneratedImage, Decimal]]
) -> list[Thumbnail]:
    rows = []
    files = storage()
    saved: list[str] = []
    # One request's concepts in the order made (the list shows the newest first).
    now = timezone.now()
    for index, (image, cost) in enumerate(made):
        thumbnail_id = uuid.uuid4()
        try:
            name = files.save(f"{client_id}/{thumbnail_id}.png", ContentFile(image.png))
        except Exception as exc:  # the object store is down or refuses: nothing half-kept
            logger.warning("thumbnail_store_failed", error=f"{type(exc).__name__}: {exc}")
            _delete_files(saved)
            raise UpstreamUnavailableError(
                "The image store is unavailable; try again later.", retry_after_s=10
            ) from exc
        saved.append(name)
        rows.append(
            Thumbnail(
                id=thumbnail_id,
                client_id=client_id,
                prompt=prompt,
                title=title,
                provider=image.provider,
                model=image.model,
                offline=image.offline,
                width=image.width,
                height=image.height,
                size_bytes=len(image.png),
                cost_usd=cost,
                attempts=[
                    {
                        "provider": a.provider,
                        "ok": a.ok,
                        "error": a.error,
                        "duration_ms": a.duration_ms,
                    }
                    for a in image.attempts
                ],
                file_name=name,
                created_at=now + timedelta(microseconds=index),
            )
        )
    try:
        Thumbnail.objects.bulk_create(rows)
    except Exception:
        _delete_files(saved)
        raise
    logger.info("thumbnails_made", client_id=client_id, count=len(rows))
    return rows


def _delete_files(names: list[str]) -> None:
    """Remove stored files; a failure is logged (an orphaned file, never a lost row)."""
    files = storage()
    for name in names:
        try:
            files.delete(name)
        except Exception as exc:
            logger.warning("thumbnail_file_delete_failed", file=name, error=type(exc).__name__)


def thumbnail_delete(*, thumbnail: Thumbnail) -> None:
    """The row, then its file once the deletion commits."""
    name = thumbnail.file_name
    with transaction.atomic():
        thumbnail.delete()
        transaction.on_commit(lambda: _delete_files([name]))


def thumbnails_delete_for_client(*, client_id: str) -> int:
    """Every thumbnail of a client (account deletion), files included."""
    names = list(Thumbnail.objects.filter(client_id=client_id).values_list("file_name", flat=True))
    deleted, _ = Thumbnail.objects.filter(client_id=client_id).delete()
    transaction.on_commit(lambda: _delete_files(names))
    return deleted
