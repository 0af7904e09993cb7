"""The prompt hash on each model-call event: SHA-256 of the messages as sent, the same for
the same prompt (whatever the message ids), different for a different one."""

from __future__ import annotations

import hashlib
import json

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

from agents.guard.interface import CallMeta
from agents.models import ModelCallEvent, ModelFactory, ModelSettings, prompt_hash
from tests.agents.conftest import RecordingGuard

META = CallMeta(client_id="client-1", feature="plan", run_id="run-7", session_id="s-1")


def conversation(question: str, *, ids: str) -> list:
    return [
        SystemMessage("You help creators.", id=f"{ids}-0"),
        HumanMessage(question, id=f"{ids}-1"),
        AIMessage(
            "",
            id=f"{ids}-2",
            tool_calls=[{"id": "call-1", "name": "hashtags", "args": {"topic": "coffee"}}],
        ),
        ToolMessage('{"tags": ["#coffee"]}', tool_call_id="call-1", id=f"{ids}-3"),
    ]


def test_the_same_prompt_hashes_the_same_whatever_its_message_ids():
    first = prompt_hash(conversation("Hashtags for coffee?", ids="a"))
    assert first == prompt_hash(conversation("Hashtags for coffee?", ids="b"))
    assert first is not None and len(first) == 64 and int(first, 16) >= 0
    assert first != prompt_hash(conversation("Hashtags for tea?", ids="a"))


def test_the_hash_is_sha256_of_the_wire_messages():
    expected = hashlib.sha256(
        json.dumps(
            [{"role": "user", "content": "hi"}], sort_keys=True, separators=(",", ":")
        ).encode()
    ).hexdigest()
    assert prompt_hash([HumanMessage("hi")]) == expected


async def test_every_call_event_carries_the_hash_of_its_prompt(guard: RecordingGuard):
    events: list[ModelCallEvent] = []

    class Recorder:
        def model_call(self, event: ModelCallEvent) -> None:
            events.append(event)

    factory = ModelFactory(
        settings=ModelSettings(), guard=guard, catalogue=lambda _: None, analytics=Recorder()
    )
    model = factory.chat_model("offline", meta=META, max_tokens=64)
    await model.ainvoke([HumanMessage("hello", id="x")])
    _ = [chunk async for chunk in model.astream([HumanMessage("hello", id="y")])]
    await model.ainvoke([HumanMessage("goodbye")])

    hashes = [event.prompt_hash for event in events]
    assert hashes[0] == hashes[1] == prompt_hash([HumanMessage("hello")])
    assert hashes[2] == prompt_hash([HumanMessage("goodbye")]) != hashes[0]
