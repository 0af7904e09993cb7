"""The model factory a run (or a tool endpoint) builds its guarded chat models with."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from django.conf import settings

from agents.guard import CallMeta, ModelPrice
from agents.models import ModelFactory, ModelSettings
from backend.guard.instance import get_guard
from backend.llm.selectors import model_price
from backend.model_calls.usage import BackendAnalytics, UsageSink

# Where a caller's soft-limit warnings go: ``guard.warning`` event data, e.g. to its stream.
WarningSink = Callable[[dict[str, Any]], Awaitable[Any]]


def model_settings() -> ModelSettings:
    env = settings.ENV
    return ModelSettings(
        base_url=env.OPENROUTER_BASE_URL,
        api_key=env.OPENROUTER_API_KEY,
        app_url=env.OPENROUTER_APP_URL,
        app_title=env.OPENROUTER_APP_TITLE,
        offline_token_delay_s=env.OFFLINE_TOKEN_DELAY_MS / 1000,
        slot_wait_s=float(env.GUARD_SLOT_WAIT_S),
        fallbacks={feature: tuple(ids) for feature, ids in env.MODEL_FALLBACKS.items()},
    )


def guard_warning(*, bucket: str, used_fraction: float) -> dict[str, Any]:
    """A ``guard.warning`` event's data."""
    return {
        "bucket": bucket,
        "used_fraction": round(used_fraction, 3),
        "message": f"{round(used_fraction * 100)}% of the {bucket} budget is used.",
    }


def model_factory(
    *,
    prices: dict[str, ModelPrice],
    usage_sink: UsageSink | None = None,
    warning_sink: WarningSink | None = None,
) -> ModelFactory:
    """A factory for the running event loop; ``prices`` is loaded before the run starts
    (the ORM cannot be called from inside the graph's event loop). Its calls' usage goes
    to ``usage_sink`` and the soft limits they cross to ``warning_sink``."""
    guard = get_guard()
    if warning_sink is not None:
        sink = warning_sink

        async def warn(bucket: str, used_fraction: float, _meta: CallMeta) -> None:
            await sink(guard_warning(bucket=bucket, used_fraction=used_fraction))

        guard = guard.with_soft_limit_hook(warn)
    return ModelFactory(
        settings=model_settings(),
        guard=guard,
        catalogue=prices.get,
        analytics=BackendAnalytics(prices=prices, usage_sink=usage_sink),
    )


def load_prices(model_ids: list[str]) -> dict[str, ModelPrice]:
    """The prices of ``model_ids`` and of every fallback model (``MODEL_FALLBACKS``): a
    chain is built from what is loaded here, before the run's loop starts."""
    fallbacks = [m for ids in settings.ENV.MODEL_FALLBACKS.values() for m in ids]
    found = {}
    for model_id in dict.fromkeys([*model_ids, *fallbacks]):
        price = model_price(model_id=model_id)
        if price is not None:
            found[model_id] = price
    return found
