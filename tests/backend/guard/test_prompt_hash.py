"""The ledger row of a model call carries its prompt hash (ORM path and the worker loop's
single statement)."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from langchain_core.messages import HumanMessage

from agents.guard import CallMeta
from agents.models import ModelCallEvent, prompt_hash
from backend.guard.ledger import _COLUMNS, LEDGER_UPSERT_SQL, ledger_params
from backend.guard.models import LlmCall

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_model_calls_row_carries_the_hash_of_its_prompt():
    from backend.model_calls.factory import load_prices, model_factory

    prices = load_prices(["offline"])
    meta = CallMeta(client_id="client-1", feature="test")

    async def ask(text: str) -> None:
        # The factory belongs to the running loop (the guard is per event loop).
        factory = model_factory(prices=prices)
        await factory.chat_model("offline", meta=meta, max_tokens=64).ainvoke([HumanMessage(text)])

    for text in ("hello", "hello", "goodbye"):
        async_to_sync(ask)(text)
    rows = list(LlmCall.objects.order_by("pk").values_list("prompt_hash", flat=True))
    hello, goodbye = prompt_hash([HumanMessage("hello")]), prompt_hash([HumanMessage("goodbye")])
    assert rows == [hello, hello, goodbye]
    assert hello != goodbye


def test_the_upsert_statement_writes_and_rewrites_the_hash():
    event = ModelCallEvent(
        model="m",
        provider="p",
        input_tokens=1,
        output_tokens=1,
        latency_s=0.1,
        cost_usd=0,  # type: ignore[arg-type]
        is_error=False,
        trace_id=None,
        feature="f",
        session_id=None,
        client_id="c",
        attempt=1,
        reservation_id="r-1",
        prompt_hash="ab" * 32,
    )
    params = ledger_params(event)
    assert params[_COLUMNS.index("prompt_hash")] == "ab" * 32
    # One placeholder per column (the jsonb cast included), and a late settle sets it too.
    assert LEDGER_UPSERT_SQL.count("%s") == len(_COLUMNS) == len(params)
    assert "prompt_hash = EXCLUDED.prompt_hash" in LEDGER_UPSERT_SQL
