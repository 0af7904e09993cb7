"""What the backend hands the agents package for one run: the model factory (guard and
analytics attached), data access, and where usage and guard warnings go."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from asgiref.sync import sync_to_async
from django.conf import settings

from agents.guard import CallMeta, ModelPrice
from agents.models import ModelCallEvent, ModelFactory, ModelSettings
from backend.guard import warnings
from backend.guard.runtime import get_guard

if TYPE_CHECKING:
    from backend.runs.executor import RunContext

# Runs executing in this process, so analytics and guard hooks can reach their streams.
_active: dict[str, RunContext] = {}


def register(ctx: RunContext) -> None:
    _active[ctx.run_id] = ctx


def unregister(ctx: RunContext) -> None:
    _active.pop(ctx.run_id, None)


def model_settings() -> ModelSettings:
    env = settings.ENV
    return ModelSettings(
        base_url=env.OPENROUTER_BASE_URL,
        api_key=env.OPENROUTER_API_KEY,
        app_url=env.OPENROUTER_APP_URL,
        app_title=env.OPENROUTER_APP_TITLE,
        offline_token_delay_s=env.OFFLINE_TOKEN_DELAY_MS / 1000,
    )


def _record_call(event: ModelCallEvent, price: ModelPrice | None) -> tuple[Decimal, Decimal]:
    """Ledger row and run totals; returns the cost split (input, output) for PostHog."""
    from backend.guard.models import LlmCall
    from backend.runs.services import run_add_usage

    input_cost, output_cost = split_cost(event, price)
    LlmCall.objects.create(
        run_id=event.trace_id or "",
        client_id=event.client_id,
        session_id=event.session_id or "",
        plan="",
        feature=event.feature,
        model=event.model,
        input_tokens=event.input_tokens,
        output_tokens=event.output_tokens,
        cost_usd=event.cost_usd,
        is_error=event.is_error,
        latency_ms=int(event.latency_s * 1000),
    )
    if event.trace_id:
        run_add_usage(
            run_id=event.trace_id,
            input_tokens=event.input_tokens,
            output_tokens=event.output_tokens,
            cost_usd=event.cost_usd,
        )
    return input_cost, output_cost


def split_cost(event: ModelCallEvent, price: ModelPrice | None) -> tuple[Decimal, Decimal]:
    """Split the settled cost into input and output parts in proportion to list prices."""
    if price is None or event.cost_usd == 0:
        return Decimal(0), event.cost_usd
    weight_in = price.input_per_token * event.input_tokens
    weight_out = price.output_per_token * event.output_tokens
    total = weight_in + weight_out
    if total == 0:
        return Decimal(0), event.cost_usd
    input_cost = (event.cost_usd * weight_in / total).quantize(Decimal("0.000000001"))
    return input_cost, event.cost_usd - input_cost


class BackendAnalytics:
    """The factory's analytics hook: ledger, run usage event, PostHog ``$ai_generation``."""

    def __init__(self, *, prices: dict[str, ModelPrice]) -> None:
        self._prices = prices

    async def model_call(self, event: ModelCallEvent) -> None:
        from backend.analytics.events import capture_generation

        price = self._prices.get(event.model)
        input_cost, output_cost = await sync_to_async(_record_call)(event, price)
        capture_generation(
            distinct_id=event.client_id,
            trace_id=event.trace_id,
            model=event.model,
            provider=price.provider if price else "unknown",
            input_tokens=event.input_tokens,
            output_tokens=event.output_tokens,
            latency_s=event.latency_s,
            input_cost_usd=input_cost,
            output_cost_usd=output_cost,
            is_error=event.is_error,
            feature=event.feature,
            session_id=event.session_id,
            error=event.error_type,
        )
        ctx = _active.get(event.trace_id or "")
        if ctx is not None:
            ctx.input_tokens += event.input_tokens
            ctx.output_tokens += event.output_tokens
            ctx.cost_usd += float(event.cost_usd)
            await ctx.emit(
                "usage",
                {
                    "model": event.model,
                    "input_tokens": event.input_tokens,
                    "output_tokens": event.output_tokens,
                    "cost_usd": str(event.cost_usd),
                    "run_cost_usd": f"{ctx.cost_usd:.6f}",
                },
            )


async def _publish_warning(bucket: str, used_fraction: float, meta: CallMeta) -> None:
    ctx = _active.get(meta.run_id or "")
    if ctx is not None:
        await ctx.emit(
            "guard.warning",
            {
                "bucket": bucket,
                "used_fraction": round(used_fraction, 3),
                "message": f"{round(used_fraction * 100)}% of the {bucket} budget is used.",
            },
        )


warnings.register(_publish_warning)


def model_factory(*, prices: dict[str, ModelPrice]) -> ModelFactory:
    """A factory for the running event loop; ``prices`` is loaded before the run starts
    (the ORM cannot be called from inside the graph's event loop)."""
    return ModelFactory(
        settings=model_settings(),
        guard=get_guard(),
        catalogue=prices.get,
        analytics=BackendAnalytics(prices=prices),
    )


def load_prices(model_ids: list[str]) -> dict[str, ModelPrice]:
    from backend.llm.selectors import model_price

    found = {}
    for model_id in model_ids:
        price = model_price(model_id=model_id)
        if price is not None:
            found[model_id] = price
    return found
