"""A factoid run (kind ``factoid``, registered by ``FactoidsConfig.ready()``): prompt →
guarded chat model → JSON ``{"text": ...}``, streamed as events.

The text streams as ``message.delta`` (sanitised as it arrives), is validated with pydantic,
sanitised and checked against the subject's stored factoids. A duplicate is withdrawn
(``message.reset``) and generation retried once with the duplicate named in the prompt;
a second duplicate fails the run with ``DUPLICATE_FACTOID``. The offline model cannot
write free text, so offline runs pick the first bundled true fact on the subject not yet
stored, through the same events.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from django.conf import settings
from langchain_core.messages import AIMessageChunk
from langchain_core.utils.json import parse_partial_json
from pydantic import BaseModel, Field, ValidationError

from agents.guard import CallMeta
from backend.analytics.events import capture
from backend.core import errors
from backend.core.db import released
from backend.core.errors import ConflictError, UpstreamError
from backend.factoids import selectors, services
from backend.factoids.models import Factoid
from backend.factoids.prompts import FACTOID_PROMPT, already_in_feed, retry_note
from backend.factoids.serializers import factoid_payload
from backend.factoids.text import MAX_FACTOID_CHARS, sanitise, streamable
from backend.model_calls.factory import load_prices, model_factory
from backend.model_calls.usage import run_usage_sink
from backend.runs.coalesce import DeltaCoalescer
from backend.runs.drivers import Driver, RunContext

GENERATION_ATTEMPTS = 2  # the first try and one retry naming the duplicate


class DuplicateFactoidError(ConflictError):
    """Every try wrote a factoid the subject already has (``run.failed``'s code)."""

    code = "DUPLICATE_FACTOID"


class FactoidDraft(BaseModel):
    """The model's structured answer."""

    text: str = Field(min_length=1)


def factoid_message_id(run_id: str) -> str:
    """Stable across attempts, so a resumed run's text replaces the interrupted one's."""
    return str(uuid.uuid5(uuid.UUID(run_id), "factoid"))


def parse_draft(raw: str) -> FactoidDraft:
    """Strict: the reply's JSON object (fences and prose around it tolerated) must be
    complete and valid; a reply cut off by the token limit is not a factoid."""
    start, end = raw.find("{"), raw.rfind("}")
    if start == -1 or end < start:
        raise UpstreamError("The model did not answer with a JSON factoid.")
    try:
        return FactoidDraft.model_validate_json(raw[start : end + 1])
    except ValidationError:
        raise UpstreamError("The model's answer was not a valid factoid object.") from None


class TextStream:
    """Deltas of the sanitised text; ``finish`` makes the deltas add up to the final text."""

    def __init__(self, ctx: RunContext, *, message_id: str) -> None:
        self._ctx = ctx
        self.message_id = message_id
        self._coalescer = self._new_coalescer()
        self._diverged = False

    def _new_coalescer(self) -> DeltaCoalescer:
        return DeltaCoalescer(
            message_id=self.message_id,
            window_s=settings.ENV.RUN_DELTA_COALESCE_MS / 1000,
            emit=self._ctx.emit,
        )

    @property
    def sent(self) -> str:
        return self._coalescer.text

    async def show(self, visible: str) -> None:
        """Extend the shown text to ``visible`` when it continues what was shown."""
        if self._diverged:
            return
        if not visible.startswith(self.sent):
            # Sanitising changed earlier text (markup completed); the final text settles it.
            self._diverged = True
            return
        await self._coalescer.add(visible[len(self.sent) :])

    async def finish(self, final: str) -> None:
        if not final.startswith(self.sent):
            await self.reset()
        await self._coalescer.add(final[len(self.sent) :])
        await self._coalescer.flush()
        await self._ctx.emit("message.completed", {"message_id": self.message_id, "text": final})

    async def reset(self) -> None:
        await self._coalescer.flush()
        if self.sent:
            await self._ctx.emit("message.reset", {"message_id": self.message_id})
        self._coalescer = self._new_coalescer()
        self._diverged = False


async def drive_factoid(ctx: RunContext) -> dict[str, Any]:
    run = ctx.run
    subject = str(run.input["subject"])
    prices = await released(load_prices)([run.model])
    price = prices.get(run.model)
    if price is None:
        raise errors.ValidationError(f"Model {run.model!r} has no known price.")
    message_id = factoid_message_id(ctx.run_id)
    await ctx.emit("run.started", {"model": run.model, "offline": price.offline})
    stream = TextStream(ctx, message_id=message_id)
    if run.attempt > 1:
        await ctx.emit("message.reset", {"message_id": message_id})
        stored = await released(selectors.factoid_for_run)(run_id=ctx.run_id)
        if stored is not None:  # the interrupted attempt got as far as storing it
            await stream.finish(stored.text)
            return await released(factoid_payload)(stored)
    started = time.perf_counter()
    if price.offline:
        factoid, retried = await _offline(ctx, stream=stream, subject=subject)
    else:
        factoid, retried = await _generate(ctx, stream=stream, subject=subject, prices=prices)
    capture(
        "factoid_generated",
        distinct_id=run.client_id,
        properties={
            "run_id": ctx.run_id,
            "factoid_id": str(factoid.uuid),
            "subject": subject,
            "model": run.model,
            "offline": price.offline,
            "input_tokens": ctx.input_tokens,
            "output_tokens": ctx.output_tokens,
            "cost_usd": round(ctx.cost_usd, 9),
            "latency_s": round(time.perf_counter() - started, 3),
            "retried": retried,
        },
    )
    return await released(factoid_payload)(factoid)


async def _store(ctx: RunContext, *, subject: str, text: str) -> Factoid:
    return await released(services.factoid_store)(
        subject=subject,
        text=text,
        model=ctx.run.model,
        source=Factoid.Source.FEED,
        client_id=ctx.run.client_id,
        run_id=ctx.run_id,
    )


async def _generate(
    ctx: RunContext, *, stream: TextStream, subject: str, prices: dict
) -> tuple[Factoid, bool]:
    run = ctx.run
    models = model_factory(
        prices=prices,
        usage_sink=run_usage_sink(ctx),
        warning_sink=lambda data: ctx.emit("guard.warning", data),
    )
    model = models.chat_model(
        run.model,
        meta=CallMeta(
            client_id=run.client_id,
            feature="factoid",
            plan=run.input.get("plan", "anonymous"),
            run_id=ctx.run_id,
            ip_hash=run.input.get("ip_hash"),
            api_key_id=run.input.get("api_key_id"),
        ),
        max_tokens=services.GENERATION_MAX_TOKENS,
    )
    chain = FACTOID_PROMPT | model
    existing = await released(selectors.factoid_texts)(subject=subject)
    duplicate: str | None = None
    for attempt in range(1, GENERATION_ATTEMPTS + 1):
        raw = ""
        async for chunk in chain.astream(
            {
                "subject": subject,
                "max_chars": MAX_FACTOID_CHARS,
                "already_in_feed": already_in_feed(existing),
                "retry_note": retry_note(duplicate),
            }
        ):
            if isinstance(chunk, AIMessageChunk) and isinstance(chunk.content, str):
                raw += chunk.content
                partial = parse_partial_json(raw[raw.find("{") :]) if "{" in raw else None
                if isinstance(partial, dict) and isinstance(partial.get("text"), str):
                    await stream.show(streamable(partial["text"]))
        text = sanitise(parse_draft(raw).text)
        if not text:
            await stream.reset()
            raise UpstreamError("The model's factoid was empty once cleaned.")
        try:
            factoid = await _store(ctx, subject=subject, text=text)
        except services.DuplicateFactoid as found:
            await stream.reset()
            duplicate = found.existing.text
            continue
        await stream.finish(text)
        return factoid, attempt > 1
    raise DuplicateFactoidError(
        f"The model twice wrote a factoid about {subject!r} that is already in the feed.",
    )


async def _offline(ctx: RunContext, *, stream: TextStream, subject: str) -> tuple[Factoid, bool]:
    delay_s = settings.ENV.OFFLINE_TOKEN_DELAY_MS / 1000
    await ctx.emit(
        "usage",
        {
            "model": ctx.run.model,
            "input_tokens": 0,
            "output_tokens": 0,
            "cost_usd": "0",
            "run_cost_usd": "0.000000",
        },
    )
    # A concurrent run may store the same fact first; then the next one is taken.
    for attempt in range(1, GENERATION_ATTEMPTS + 1):
        fact = await released(selectors.factoid_offline_pick)(subject=subject)
        if fact is None:
            break
        words = fact.split(" ")
        for index in range(len(words)):
            await stream.show(" ".join(words[: index + 1]))
            if delay_s:
                await asyncio.sleep(delay_s)
        try:
            factoid = await _store(ctx, subject=subject, text=fact)
        except services.DuplicateFactoid:
            await stream.reset()
            continue
        await stream.finish(fact)
        return factoid, attempt > 1
    raise DuplicateFactoidError(
        f"Every offline fact about {subject!r} is already in the feed; "
        "configure a model to generate new ones.",
    )


DRIVER = Driver(drive=drive_factoid)
