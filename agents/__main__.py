"""Run the agent from a terminal: ``uv run python -m agents "ideas for a home espresso channel"``.

With no ``OPENROUTER_API_KEY`` it uses the offline model. With a key it uses ChatOpenAI
against ``OPENROUTER_BASE_URL``; the model comes from ``--model`` / ``OPENROUTER_MODEL``
and its price from ``--input-price``/``--output-price`` (USD per million tokens) or
``DECLARED_MODELS``. A model without a price is refused. This is the one place in
``agents`` that reads the environment.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import uuid
from decimal import Decimal
from typing import Any, cast

from langchain_core.messages import AIMessageChunk, HumanMessage
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.memory import InMemorySaver

from agents.context import AgentDeps, Context
from agents.graph import compile_graph
from agents.guard.interface import GuardError, ModelPrice
from agents.models import OFFLINE_MODEL_ID, ModelFactory, ModelSettings
from agents.sample_data import SAMPLE_CHANNEL_ID, InMemoryAgentData
from agents.state import InputState

PER_MILLION = Decimal(1_000_000)


def _declared_prices(raw: str) -> dict[str, ModelPrice]:
    prices: dict[str, ModelPrice] = {}
    for entry in json.loads(raw or "[]"):
        prices[entry["id"]] = ModelPrice(
            model_id=entry["id"],
            input_per_token=Decimal(str(entry["input_per_million"])) / PER_MILLION,
            output_per_token=Decimal(str(entry["output_per_million"])) / PER_MILLION,
            context_length=entry.get("context_length"),
        )
    return prices


def _guard() -> Any:
    from agents.guard import CostGuard, GuardLimits, MemoryBudgetStore, PlanLimits

    # A terminal session is its own operator: no budgets, but every call still reserves
    # and settles, so the CLI exercises the same path as the service.
    return CostGuard(
        store=MemoryBudgetStore(),
        limits=GuardLimits(
            plans={"anonymous": PlanLimits(client_daily_usd=None)}, global_daily_usd=None
        ),
    )


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m agents", description=__doc__)
    parser.add_argument("request", nargs="+", help="What you would type in the chat.")
    parser.add_argument("--model", default=os.environ.get("OPENROUTER_MODEL"))
    parser.add_argument("--input-price", type=Decimal, help="USD per million input tokens")
    parser.add_argument("--output-price", type=Decimal, help="USD per million output tokens")
    parser.add_argument("--max-steps", type=int, default=6)
    parser.add_argument(
        "--channel", default=SAMPLE_CHANNEL_ID, help="The own channel (primary) for channel tools"
    )
    parser.add_argument(
        "--delay-ms",
        type=float,
        default=float(os.environ.get("OFFLINE_TOKEN_DELAY_MS", "0") or 0),
        help="Offline model: pause per streamed word",
    )
    return parser.parse_args(argv)


def _print(text: str, *, end: str = "\n") -> None:
    sys.stdout.write(text + end)
    sys.stdout.flush()


async def main(argv: list[str]) -> int:
    args = _parse(argv)
    api_key = os.environ.get("OPENROUTER_API_KEY") or None
    prices = _declared_prices(os.environ.get("DECLARED_MODELS", ""))
    model_id = OFFLINE_MODEL_ID
    if api_key:
        if not args.model:
            _print("Set --model or OPENROUTER_MODEL to use the API.")
            return 2
        model_id = args.model
        if args.input_price is not None and args.output_price is not None:
            prices[model_id] = ModelPrice(
                model_id=model_id,
                input_per_token=args.input_price / PER_MILLION,
                output_per_token=args.output_price / PER_MILLION,
            )
        if model_id not in prices:
            _print(
                f"No price known for {model_id!r}: pass --input-price and --output-price "
                "(USD per million tokens) or declare it in DECLARED_MODELS."
            )
            return 2
    factory = ModelFactory(
        settings=ModelSettings(
            base_url=os.environ.get("OPENROUTER_BASE_URL") or "https://openrouter.ai/api/v1",
            api_key=api_key,
            offline_token_delay_s=args.delay_ms / 1000,
        ),
        guard=_guard(),
        catalogue=prices.get,
    )
    context = Context(
        deps=AgentDeps(
            models=factory,
            data=InMemoryAgentData(own_channel_ids=[args.channel] if args.channel else None),
        ),
        model_id=model_id,
        max_steps=args.max_steps,
        client_id="cli",
        run_id=f"cli-{uuid.uuid4().hex[:8]}",
    )
    graph = compile_graph(checkpointer=InMemorySaver())
    config: RunnableConfig = {"configurable": {"thread_id": context.run_id}}
    _print(f"model: {model_id}{' (offline)' if model_id == OFFLINE_MODEL_ID else ''}")
    streaming_text = False
    try:
        async for part in graph.astream(
            InputState(messages=[HumanMessage(" ".join(args.request))]),
            config,
            context=context,
            stream_mode=["messages", "custom"],  # v1 parts: (mode, chunk)
        ):
            mode, chunk = cast(tuple[str, Any], part)
            if mode == "messages":
                message, metadata = chunk
                if isinstance(message, AIMessageChunk) and message.text:
                    if not streaming_text:
                        _print(f"\n--- answer ({metadata['langgraph_node']}) ---")
                        streaming_text = True
                    _print(message.text, end="")
                continue
            if streaming_text:
                _print("")
                streaming_text = False
            event = dict(chunk)
            kind = event.pop("type")
            if kind == "plan":
                calls = event["tool_calls"]
                names = ", ".join(f"{c['name']}({json.dumps(c['args'])})" for c in calls)
                _print(f"[plan] {names or 'answer directly'}")
            elif kind == "tool.progress":
                total = f"/{event['total']}" if event.get("total") else ""
                _print(f"  [{event['call_id']}] {event['done']}{total} {event['message']}")
            elif kind in ("tool.started", "tool.completed", "tool.failed"):
                detail = event.get("error") or event.get("args") or f"{event.get('duration_ms')} ms"
                _print(f"[{kind}] {event.get('name')} {event['call_id']} {detail}")
            elif kind == "usage":
                _print(
                    f"[usage] {event['feature']}: {event['input_tokens']} in, "
                    f"{event['output_tokens']} out, ${event['cost_usd']:.6f}"
                )
    except GuardError as exc:
        _print(f"\nrefused ({exc.code}): {exc.message}")
        return 1
    state = await graph.aget_state(config)
    usage = state.values.get("usage", {})
    _print(
        f"\n\n--- run usage: {usage.get('input_tokens', 0)} in, "
        f"{usage.get('output_tokens', 0)} out, ${usage.get('cost_usd', 0.0):.6f} ---"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(sys.argv[1:])))
