"""Model fallbacks: the real ChatOpenAI against the local OpenAI-compatible server, whose
replies depend on the model asked. On 429, 5xx, a timeout or a stream cut off before its
finish chunk, the next model of the chain answers — each attempt reserved and settled on
its own; after text was streamed, the run is told to reset and the answer keeps only the
fallback's text. A refusal that another try would not fix (400) is not retried."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage
from langgraph.checkpoint.memory import InMemorySaver

from agents import compile_graph
from agents.fallbacks import ANSWERED_BY_KEY, FallbackChatModel
from agents.guard import CallMeta, ModelPrice
from agents.models import ModelFactory, ModelSettings
from tests.agents.conftest import RecordingGuard, make_context
from tests.fakes.openai_server import OpenAIServer, Reply

PRIMARY = ModelPrice(model_id="test/primary", input_per_token=Decimal("0.000001"),
                     output_per_token=Decimal("0.000002"), provider="test")  # fmt: skip
BACKUP = ModelPrice(model_id="test/backup", input_per_token=Decimal("0.000003"),
                    output_per_token=Decimal("0.000004"), provider="test")  # fmt: skip
PRICES = {p.model_id: p for p in (PRIMARY, BACKUP)}
PARTIAL = "The primary began an answer"  # 5 words: chunks 1-5, the finish chunk is 6
META = CallMeta(client_id="c1", feature="respond", plan="anonymous")


def factory(server: OpenAIServer, guard: RecordingGuard, **settings: Any) -> ModelFactory:
    async def no_sleep(_: float) -> None:
        return None

    return ModelFactory(
        settings=ModelSettings(
            base_url=server.base_url,
            api_key="sk-test",
            fallbacks={"*": ("test/backup",)},
            **settings,
        ),
        guard=guard,
        catalogue=PRICES.get,
        sleep=no_sleep,
    )


def by_model(primary: Reply, backup: Reply | None = None):
    def reply(body: dict[str, Any]) -> Reply:
        if body["model"] == "test/primary":
            return primary
        return backup or Reply(text="The backup answered.")

    return reply


def models_asked(server: OpenAIServer) -> list[str]:
    return [body["model"] for body in server.requests if "/moderations" not in str(body)]


@pytest.fixture
def server():
    instance = OpenAIServer(gate_timeout_s=3).start()
    yield instance
    instance.stop()


@pytest.mark.parametrize(
    "failure",
    [Reply(status=500), Reply(status=503), Reply(status=429, retry_after_s=0)],
    ids=["500", "503", "429"],
)
async def test_an_upstream_error_falls_back_after_the_primarys_retries(server, failure) -> None:
    server.script(by_model(failure))
    guard = RecordingGuard()
    model = factory(server, guard, max_attempts=2).chat_model("test/primary", meta=META,
                                                               max_tokens=50)  # fmt: skip
    assert isinstance(model, FallbackChatModel)

    reply = await model.ainvoke([HumanMessage("hi")])

    assert reply.text == "The backup answered."
    assert reply.response_metadata[ANSWERED_BY_KEY] == "test/backup"
    assert models_asked(server) == ["test/primary", "test/primary", "test/backup"]
    # Each attempt was its own reservation at its own model's price, and settled.
    assert [r["model"].model_id for r in guard.reserved] == models_asked(server)
    assert guard.open_reservations == set()


async def test_a_timeout_falls_back(server) -> None:
    import threading

    never = threading.Event()
    server.script(by_model(Reply(text="late", gate=never)))
    guard = RecordingGuard()
    model = factory(server, guard, max_attempts=1, request_timeout_s=0.5).chat_model(
        "test/primary", meta=META, max_tokens=50
    )

    reply = await model.ainvoke([HumanMessage("hi")])

    assert reply.text == "The backup answered."
    never.set()


async def test_a_bad_request_is_not_retried_on_another_model(server) -> None:
    server.script(by_model(Reply(status=400, error_message="bad request")))
    model = factory(server, RecordingGuard()).chat_model("test/primary", meta=META, max_tokens=9)

    with pytest.raises(Exception, match="bad request"):
        await model.ainvoke([HumanMessage("hi")])
    assert models_asked(server) == ["test/primary"]


async def test_a_stream_cut_before_any_text_falls_back_silently(server) -> None:
    server.script(by_model(Reply(text=PARTIAL, drop_before_chunk=0)))
    guard = RecordingGuard()
    model = factory(server, guard, max_attempts=1).chat_model("test/primary", meta=META,
                                                               max_tokens=50)  # fmt: skip
    chunks = [chunk async for chunk in model.astream([HumanMessage("hi")])]

    assert "".join(str(c.content) for c in chunks) == "The backup answered."
    assert models_asked(server) == ["test/primary", "test/backup"]


async def test_a_stream_cut_after_text_resets_and_keeps_only_the_fallbacks_answer(server) -> None:
    """Through the graph: the respond node's text, the custom ``message.reset`` event,
    and the final message without the abandoned words."""
    server.script(by_model(Reply(text=PARTIAL, drop_before_chunk=6), Reply(text="Backup text.")))
    guard = RecordingGuard()
    context = make_context(guard=guard, factory=factory(server, guard, max_attempts=1),
                           model_id="test/primary")  # fmt: skip
    graph = compile_graph(checkpointer=InMemorySaver(), tools=[])
    custom: list[dict[str, Any]] = []
    tokens: list[str] = []
    async for mode, chunk in graph.astream(
        {"messages": [HumanMessage("hey there")]},
        {"configurable": {"thread_id": "t"}},
        context=context,
        stream_mode=["messages", "custom", "values"],
    ):
        if mode == "custom":
            custom.append(chunk)
        elif mode == "messages" and isinstance(chunk[0], AIMessageChunk):
            tokens.append(str(chunk[0].content))
        elif mode == "values":
            state = chunk

    [reset] = [e for e in custom if e["type"] == "message.reset"]
    assert reset["next_model"] == "test/backup" and "test/primary" in reset["reason"]
    assert "The primary began" in "".join(tokens)  # it was shown, then reset
    answer = state["messages"][-1]
    assert isinstance(answer, AIMessage) and answer.text == "Backup text."
    usage = [e for e in custom if e["type"] == "usage"]
    assert usage[-1]["model"] == "test/backup"  # the usage says which model answered
    # The cut-off attempt settled as unreported (its worst case), never at zero.
    primary_settles = [u for r, u in guard.settled if r.model.model_id == "test/primary"]
    assert primary_settles and all(u.unreported for u in primary_settles)


async def test_without_fallbacks_the_guarded_model_is_used_as_before(server) -> None:
    server.script([Reply(text="hello")])
    plain = ModelFactory(
        settings=ModelSettings(base_url=server.base_url, api_key="sk-test"),
        guard=RecordingGuard(), catalogue=PRICES.get,
    )  # fmt: skip
    model = plain.chat_model("test/primary", meta=META, max_tokens=9)
    assert not isinstance(model, FallbackChatModel)
    assert (await model.ainvoke([HumanMessage("hi")])).text == "hello"


async def test_the_offline_model_as_the_last_resort(server) -> None:
    server.script(by_model(Reply(status=502)))
    guard = RecordingGuard()
    chain = ModelFactory(
        settings=ModelSettings(base_url=server.base_url, api_key="sk-test", max_attempts=1,
                               fallbacks={"respond": ("offline",)}),
        guard=guard, catalogue=PRICES.get,
    )  # fmt: skip
    reply = await chain.chat_model("test/primary", meta=META, max_tokens=200).ainvoke(
        [HumanMessage("hi")]
    )
    assert reply.response_metadata[ANSWERED_BY_KEY] == "offline"
    assert reply.text
