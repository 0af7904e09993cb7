"""What the backend hands the agents package for one run: the model factory (guard and
analytics attached), data access, and where usage and guard warnings go."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings

from agents.guard import CallMeta, ModelPrice
from agents.models import ModelCallEvent, ModelFactory, ModelSettings
from backend.core.db import released
from backend.guard import warnings
from backend.guard.runtime import get_guard

if TYPE_CHECKING:
    from backend.runs.executor import RunContext

EmitFn = Callable[[str, dict[str, Any]], Awaitable[Any]]

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
        slot_wait_s=float(env.GUARD_SLOT_WAIT_S),
    )


def _record_call(event: ModelCallEvent) -> None:
    """Ledger row and run totals (the ORM path; ``_arecord_call`` on a worker's loop)."""
    from backend.guard.ledger import ledger_record
    from backend.runs.services import run_add_usage

    ledger_record(event)
    if event.trace_id:
        run_add_usage(
            run_id=event.trace_id,
            input_tokens=event.input_tokens,
            output_tokens=event.output_tokens,
            cost_usd=event.cost_usd,
        )


# The same two writes in one statement, for the worker's loop (no thread hop, one commit);
# for a call outside a run the UPDATE matches nothing (``id = NULL``).
def _ledger_and_run_usage_sql() -> str:
    from backend.guard.ledger import LEDGER_UPSERT_SQL

    run_usage = (
        "UPDATE runs_run SET input_tokens = input_tokens + %s, "
        "output_tokens = output_tokens + %s, cost_usd = cost_usd + %s WHERE id = %s::uuid"
    )
    return "WITH ledger AS (" + LEDGER_UPSERT_SQL + ") " + run_usage


async def _arecord_call(event: ModelCallEvent) -> bool:
    """``_record_call`` on the worker's loop over its pool; False elsewhere (use the ORM)."""
    from backend.runs.checkpoints import postgres_dsn, process_pool
    from backend.runs.worker_loop import is_process_loop

    dsn = postgres_dsn() if is_process_loop() else None
    if dsn is None:
        return False
    from backend.guard.ledger import ledger_params

    usage = (event.input_tokens, event.output_tokens, event.cost_usd, event.trace_id or None)
    pool = await process_pool(dsn)
    async with pool.connection() as conn:
        await conn.execute(_ledger_and_run_usage_sql(), (*ledger_params(event), *usage))
    return True


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


UsageSink = Callable[[ModelCallEvent], Awaitable[None]]


class BackendAnalytics:
    """The factory's analytics hook: ledger, run usage event, PostHog ``$ai_generation``.

    ``usage_sink`` replaces the live ``usage`` event: a tool call running in its own task
    collects its usage and hands it back to the run, which emits it (see ``tool_calls``).
    """

    def __init__(
        self, *, prices: dict[str, ModelPrice], usage_sink: UsageSink | None = None
    ) -> None:
        self._prices = prices
        self._usage_sink = usage_sink

    async def model_call(self, event: ModelCallEvent) -> None:
        from backend.analytics.events import capture_generation

        price = self._prices.get(event.model)
        if not await _arecord_call(event):
            await released(_record_call)(event)
        input_cost, output_cost = split_cost(event, price)
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
        if self._usage_sink is not None:
            await self._usage_sink(event)
            return
        ctx = _active.get(event.trace_id or "")
        if ctx is not None:
            await emit_usage(
                ctx,
                model=event.model,
                input_tokens=event.input_tokens,
                output_tokens=event.output_tokens,
                cost_usd=event.cost_usd,
            )


async def emit_usage(
    ctx: RunContext, *, model: str, input_tokens: int, output_tokens: int, cost_usd: Decimal
) -> None:
    """Add one settled model call to the run's totals and emit its ``usage`` event."""
    ctx.input_tokens += input_tokens
    ctx.output_tokens += output_tokens
    ctx.cost_usd += float(cost_usd)
    await ctx.emit(
        "usage",
        {
            "model": model,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cost_usd": str(cost_usd),
            "run_cost_usd": f"{ctx.cost_usd:.6f}",
        },
    )


# Runs with a tool call executing in this process (on another worker than the run):
# run id -> (emit, number of calls), so guard warnings of tool calls reach the run's stream.
_tool_call_emitters: dict[str, tuple[EmitFn, int]] = {}


def register_tool_call(run_id: str, emit: EmitFn) -> None:
    _, count = _tool_call_emitters.get(run_id, (emit, 0))
    _tool_call_emitters[run_id] = (emit, count + 1)


def unregister_tool_call(run_id: str) -> None:
    emit, count = _tool_call_emitters.get(run_id, (None, 0))
    if emit is None or count <= 1:
        _tool_call_emitters.pop(run_id, None)
    else:
        _tool_call_emitters[run_id] = (emit, count - 1)


async def _publish_warning(bucket: str, used_fraction: float, meta: CallMeta) -> None:
    data = {
        "bucket": bucket,
        "used_fraction": round(used_fraction, 3),
        "message": f"{round(used_fraction * 100)}% of the {bucket} budget is used.",
    }
    ctx = _active.get(meta.run_id or "")
    if ctx is not None:
        await ctx.emit("guard.warning", data)
    elif (meta.run_id or "") in _tool_call_emitters:
        await _tool_call_emitters[meta.run_id or ""][0]("guard.warning", data)


warnings.register(_publish_warning)


def model_factory(
    *, prices: dict[str, ModelPrice], usage_sink: UsageSink | None = None
) -> ModelFactory:
    """A factory for the running event loop; ``prices`` is loaded before the run starts
    (the ORM cannot be called from inside the graph's event loop)."""
    return ModelFactory(
        settings=model_settings(),
        guard=get_guard(),
        catalogue=prices.get,
        analytics=BackendAnalytics(prices=prices, usage_sink=usage_sink),
    )


def load_prices(model_ids: list[str]) -> dict[str, ModelPrice]:
    from backend.llm.selectors import model_price

    found = {}
    for model_id in model_ids:
        price = model_price(model_id=model_id)
        if price is not None:
            found[model_id] = price
    return found
