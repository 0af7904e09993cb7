"""Where a settled model call goes: the ledger row and the run's totals, PostHog's
``$ai_generation``, and the caller's usage sink (a run's ``usage`` event)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

from agents.guard import CallMeta, ModelPrice
from agents.models import ModelCallEvent
from backend.analytics.events import capture_generation
from backend.core.db import released
from backend.guard.ledger import (
    LEDGER_UPSERT_SQL,
    ledger_mark_settle_pending,
    ledger_params,
    ledger_record,
)
from backend.guard.services import aguard_refusal_count
from backend.runs.checkpoints import postgres_dsn, process_pool
from backend.runs.drivers import RunContext
from backend.runs.services import run_add_usage
from backend.runs.worker_loop import is_process_loop

UsageSink = Callable[[ModelCallEvent], Awaitable[None]]


def _record_call(event: ModelCallEvent) -> None:
    """Ledger row and run totals (the ORM path; ``_arecord_call`` on a worker's loop)."""
    ledger_record(event)
    if event.trace_id:
        run_add_usage(
            run_id=event.trace_id,
            input_tokens=event.input_tokens,
            output_tokens=event.output_tokens,
            cost_usd=event.cost_usd,
        )


# The same two writes in one statement, for the worker's loop (no thread hop, one commit);
# for a call outside a run the UPDATE matches nothing (``id = NULL``). Constants only.
LEDGER_AND_RUN_USAGE_SQL = (
    "WITH ledger AS (" + LEDGER_UPSERT_SQL + ") "  # noqa: S608
    "UPDATE runs_run SET input_tokens = input_tokens + %s, "
    "output_tokens = output_tokens + %s, cost_usd = cost_usd + %s WHERE id = %s::uuid"
)


async def _arecord_call(event: ModelCallEvent) -> bool:
    """``_record_call`` on the worker's loop over its pool; False elsewhere (use the ORM)."""
    dsn = postgres_dsn() if is_process_loop() else None
    if dsn is None:
        return False
    usage = (event.input_tokens, event.output_tokens, event.cost_usd, event.trace_id or None)
    pool = await process_pool(dsn)
    async with pool.connection() as conn:
        await conn.execute(LEDGER_AND_RUN_USAGE_SQL, (*ledger_params(event), *usage))
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


class BackendAnalytics:
    """The factory's analytics hook: ledger, run totals, PostHog ``$ai_generation``, then
    the caller's ``usage_sink`` (a run's ``usage`` event; a tool call running in its own
    task collects its usage there and hands it back to the run, see ``chat.tool_calls``)."""

    def __init__(
        self, *, prices: dict[str, ModelPrice], usage_sink: UsageSink | None = None
    ) -> None:
        self._prices = prices
        self._usage_sink = usage_sink

    async def model_call(self, event: ModelCallEvent) -> None:
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

    async def call_refused(self, meta: CallMeta, error: Exception) -> None:
        """The guard refused a call for good: counted for ``/metrics`` (no table has it)."""
        await aguard_refusal_count(where="call", exc=error)

    async def settle_pending(self, event: ModelCallEvent) -> None:
        """The budget store did not take the call's settle: its row keeps it for the
        sweeper (``guard.reconcile``), with the reservation's settlement record."""
        await released(ledger_mark_settle_pending)(event)


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


def run_usage_sink(ctx: RunContext) -> UsageSink:
    """The usage sink of a run whose model calls run in its own attempt."""

    async def sink(event: ModelCallEvent) -> None:
        await emit_usage(
            ctx,
            model=event.model,
            input_tokens=event.input_tokens,
            output_tokens=event.output_tokens,
            cost_usd=event.cost_usd,
        )

    return sink
