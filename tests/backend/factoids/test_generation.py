"""Factoid generation as a run: the offline model's bundled facts and a real model over
HTTP (the local OpenAI-compatible server), streamed, deduplicated, sanitised, resumable."""

from __future__ import annotations

import asyncio
import json
import threading
from decimal import Decimal

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.test import AsyncClient

from backend.factoids import curated
from backend.factoids.models import Factoid
from backend.guard.models import LlmCall
from backend.runs.models import Run
from tests.backend.factoids.conftest import make_factoid
from tests.backend.runs.helpers import collect, parse_sse
from tests.fakes.openai_server import Reply

pytestmark = pytest.mark.django_db(transaction=True)
MODEL = "test/priced"


@pytest.fixture
def real_model(env, openai_server, embedded):
    env(
        OPENROUTER_API_KEY="sk-test",
        OPENROUTER_BASE_URL=openai_server.base_url,
        DECLARED_MODELS=[{"id": MODEL, "input_per_million": "1", "output_per_million": "2"}],
    )
    return openai_server


def generate(client, **body) -> dict:
    response = client.post("/api/factoids/generate/", body, format="json")
    assert response.status_code == 202, response.content
    return response.json()


def run_to_end(client, **body) -> tuple[dict, list[dict]]:
    accepted = generate(client, **body)
    frames = asyncio.run(collect(accepted["stream_url"], timeout=60))
    return accepted, frames


def events(frames: list[dict], type: str) -> list[dict]:
    return [f["payload"]["data"] for f in frames if f["event"] == type]


def shown_text(frames: list[dict]) -> str:
    """What a client rendering deltas ends with (``message.reset`` drops the text so far)."""
    text = ""
    for frame in frames:
        if frame["event"] == "message.reset":
            text = ""
        elif frame["event"] == "message.delta":
            text += frame["payload"]["data"]["text"]
    return text


def factoid_reply(text: str, **extra) -> Reply:
    return Reply(text=json.dumps({"text": text}), **extra)


# --- offline ------------------------------------------------------------------------


def test_offline_generation_serves_bundled_facts_in_order_then_runs_out(anon_client, embedded):
    facts = curated.OFFLINE_FACTS["coffee"]
    for expected in facts:
        accepted, frames = run_to_end(anon_client, subject="coffee")
        types = [f["event"] for f in frames]
        assert types[:3] == ["run.queued", "run.started", "usage"]
        assert types[-2:] == ["message.completed", "run.completed"]
        assert "message.delta" in types
        assert events(frames, "run.started") == [{"model": "offline", "offline": True}]
        result = events(frames, "run.completed")[0]["result"]
        assert result["text"] == expected == shown_text(frames)
        assert (result["model"], result["source"], result["subject"]) == (
            "offline",
            "feed",
            "coffee",
        )
        detail = anon_client.get(f"/api/factoids/requests/{accepted['request_id']}/").json()
        assert detail["status"] == "succeeded"
        assert detail["factoid"]["uuid"] == result["uuid"]
        assert detail["cost_usd"] == "0.000000"
    accepted, frames = run_to_end(anon_client, subject="coffee")
    failure = events(frames, "run.failed")[0]["error"]
    assert failure["code"] == "DUPLICATE_FACTOID"
    detail = anon_client.get(f"/api/factoids/requests/{accepted['request_id']}/").json()
    assert (detail["status"], detail["error"]["code"]) == ("failed", "DUPLICATE_FACTOID")
    assert Factoid.objects.filter(subject="coffee").count() == len(facts)


def test_offline_skips_facts_already_stored(anon_client, embedded):
    first, second = curated.OFFLINE_FACTS["oceans"][:2]
    make_factoid(subject="oceans", text=first.upper())  # same fact, other spelling
    _, frames = run_to_end(anon_client, subject="oceans")
    assert events(frames, "run.completed")[0]["result"]["text"] == second


def test_bundled_facts_cover_every_curated_subject():
    assert set(curated.OFFLINE_FACTS) == set(curated.SUBJECTS)
    assert sum(len(facts) for facts in curated.OFFLINE_FACTS.values()) >= 30
    for facts in curated.OFFLINE_FACTS.values():
        assert all(len(fact) <= 280 for fact in facts)


# --- a real model over HTTP -------------------------------------------------------------


def test_generation_through_an_openai_compatible_server(anon_client, real_model, posthog_server):
    text = "Saturn is the only planet in the Solar System less dense than water."
    real_model.script([factoid_reply(text, prompt_tokens=120, completion_tokens=30, cost=0.0004)])
    accepted, frames = run_to_end(anon_client, subject="astronomy", model=MODEL)
    types = [f["event"] for f in frames]
    assert types[:2] == ["run.queued", "run.started"]
    assert types[-2:] == ["message.completed", "run.completed"], types
    assert [f["payload"]["seq"] for f in frames] == list(range(1, len(frames) + 1))
    assert events(frames, "run.started") == [{"model": MODEL, "offline": False}]
    assert shown_text(frames) == text  # deltas carry the text, never the JSON around it
    assert events(frames, "message.completed")[0]["text"] == text
    usage = events(frames, "usage")
    assert usage and usage[-1]["cost_usd"] == "0.0004"
    result = events(frames, "run.completed")[0]["result"]
    assert (result["text"], result["model"], result["source"]) == (text, MODEL, "feed")

    # The guard's explicit limit, the prompt asking for JSON about the subject.
    [request] = real_model.requests
    assert request["model"] == MODEL
    assert request.get("max_completion_tokens") or request.get("max_tokens")
    prompt = json.dumps(request["messages"])
    assert "astronomy" in prompt and '{\\"text\\"' in prompt
    detail = anon_client.get(f"/api/factoids/requests/{accepted['request_id']}/").json()
    assert detail["usage"] == {"input_tokens": 120, "output_tokens": 30}
    assert Decimal(detail["cost_usd"]) == Decimal("0.0004")
    assert LlmCall.objects.get(run_id=accepted["request_id"]).feature == "factoid"

    event = posthog_server.wait_for("factoid_generated")[0]["properties"]
    assert (event["model"], event["input_tokens"], event["output_tokens"]) == (MODEL, 120, 30)
    assert event["cost_usd"] == pytest.approx(0.0004)
    assert event["latency_s"] >= 0
    generation = posthog_server.wait_for("$ai_generation")[0]["properties"]
    assert generation["$ai_trace_id"] == accepted["request_id"]
    assert generation["feature"] == "factoid"


def test_markup_from_the_model_is_stripped_and_capped(anon_client, real_model):
    raw = "<p>**Octopuses** have <b>three</b> hearts</p> and " + "very " * 80 + "blue blood."
    real_model.script([Reply(text="```json\n" + json.dumps({"text": raw}) + "\n```")])
    _, frames = run_to_end(anon_client, subject="oceans", model=MODEL)
    text = events(frames, "run.completed")[0]["result"]["text"]
    assert text.startswith("Octopuses have three hearts and very very")
    assert len(text) <= 280 and text.endswith("…")
    assert "<" not in text and "*" not in text
    assert shown_text(frames) == text == Factoid.objects.get().text


def test_a_duplicate_is_retried_once_naming_it(anon_client, real_model):
    stored = make_factoid(text="Light from the Sun takes about eight minutes to reach Earth.")
    fresh = "A day on Venus is longer than its year."
    real_model.script(
        [
            factoid_reply("light from the sun takes about EIGHT minutes to reach earth"),
            factoid_reply(fresh),
        ]
    )
    _, frames = run_to_end(anon_client, subject="astronomy", model=MODEL)
    assert events(frames, "run.completed")[0]["result"]["text"] == fresh
    assert "message.reset" in [f["event"] for f in frames]
    assert shown_text(frames) == fresh
    first, retry = real_model.requests
    assert "repeated a factoid" not in json.dumps(first["messages"])
    retry_prompt = retry["messages"][-1]["content"]
    assert f"repeated a factoid already in the feed:\n<data>\n{stored.text}\n</data>" in (
        retry_prompt
    )
    assert Factoid.objects.count() == 2


def test_a_near_duplicate_twice_fails_the_run_with_a_clear_code(anon_client, real_model):
    make_factoid(text="Jupiter is so big that more than 1,300 Earths could fit inside it.")
    near = "Jupiter is so big that over 1,300 Earths could fit inside it."
    real_model.script([factoid_reply(near), factoid_reply(near + "!")])
    accepted, frames = run_to_end(anon_client, subject="astronomy", model=MODEL)
    assert events(frames, "run.failed")[0]["error"]["code"] == "DUPLICATE_FACTOID"
    assert shown_text(frames) == ""  # the withdrawn text is not left on screen
    assert len(real_model.requests) == 2
    assert Factoid.objects.count() == 1
    detail = anon_client.get(f"/api/factoids/requests/{accepted['request_id']}/").json()
    assert detail["status"] == "failed" and detail["factoid"] is None


def test_a_reply_that_is_not_a_json_factoid_fails_the_run(anon_client, real_model):
    real_model.script([Reply(text='{"text": "cut off mid')])
    _, frames = run_to_end(anon_client, subject="music", model=MODEL)
    assert events(frames, "run.failed")[0]["error"]["code"] == "UPSTREAM_ERROR"
    assert not Factoid.objects.exists()


# --- streaming ------------------------------------------------------------------------


def test_stream_resumes_with_last_event_id_exactly_once(anon_client, real_model):
    gate = threading.Event()
    text = "Sound travels about four times faster in seawater than in air."
    real_model.script([factoid_reply(text, gate=gate)])
    accepted = generate(anon_client, subject="oceans", model=MODEL)
    token = anon_client._credentials["HTTP_X_CLIENT_TOKEN"]
    url = f"/api/factoids/streams/{accepted['request_id']}/"

    async def first_events() -> list[dict]:
        response = await AsyncClient().get(url, headers={"X-Client-Token": token})
        buffer = b""
        async for chunk in response.streaming_content:
            buffer += chunk
            if b"event: run.started" in buffer:
                break
        return parse_sse(buffer)

    seen = async_to_sync(first_events)()
    assert [f["event"] for f in seen] == ["run.queued", "run.started"]
    gate.set()  # the model answers while the client is away
    rest = asyncio.run(
        collect(url, timeout=60, **{"X-Client-Token": token, "Last-Event-ID": seen[-1]["id"]})
    )
    seqs = [f["payload"]["seq"] for f in seen + rest]
    assert seqs == list(range(1, len(seqs) + 1))
    assert rest[-1]["event"] == "run.completed"
    assert shown_text(rest) == text

    # A finished run replays from any cursor, with the signed stream URL too.
    replay = asyncio.run(collect(accepted["stream_url"], timeout=10, **{"Last-Event-ID": "3"}))
    assert [f["payload"]["seq"] for f in replay] == seqs[3:]


async def test_request_status_while_running(anon_client, real_model):
    gate = threading.Event()
    real_model.script([factoid_reply("The Moon has moonquakes.", gate=gate)])
    accepted = await sync_to_async(generate)(anon_client, subject="astronomy", model=MODEL)

    def status() -> str:
        return anon_client.get(f"/api/factoids/requests/{accepted['request_id']}/").json()["status"]

    await sync_to_async(real_model.wait_for_requests)(1, timeout_s=10)
    assert await sync_to_async(status)() == "running"
    gate.set()
    await collect(accepted["stream_url"], timeout=30)
    assert await sync_to_async(status)() == "succeeded"
    run = await sync_to_async(Run.objects.get)(pk=accepted["request_id"])
    assert run.kind == "factoid" and run.status == "completed"


# --- the agent's factoid tool -----------------------------------------------------------


def test_the_agents_save_factoid_keeps_it_private_to_the_client(anon_client):
    from backend.channels.agent_data import BackendAgentData

    data = BackendAgentData(client_id=anon_client.client_id, model_id="offline")
    saved = async_to_sync(data.save_factoid)(
        topic="Home Espresso",
        text="Did you know? <b>Espresso</b> means pressed out.",
        source_video_ids=("v1", "v2"),
    )
    again = async_to_sync(data.save_factoid)(
        topic="home espresso",
        text="Did you know? Espresso means pressed out",
        source_video_ids=(),
    )
    assert again.factoid_id == saved.factoid_id  # the same fact is kept once
    assert saved.text == "Did you know? Espresso means pressed out."
    assert anon_client.get("/api/factoids/?subject=home espresso").json()["results"] == []
    mine = "/api/factoids/?mine=private&subject=home espresso"
    [item] = anon_client.get(mine).json()["results"]
    assert (item["uuid"], item["source"], item["model"]) == (saved.factoid_id, "chat", "offline")
    assert Factoid.objects.get().source_video_ids == ["v1", "v2"]
