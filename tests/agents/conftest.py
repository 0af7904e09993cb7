"""Helpers for the agent tests: a recording guard, counting data access, contexts."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest

from agents.context import AgentDeps, Context, SavedFactoid, SavedThumbnail
from agents.guard.interface import (
    BudgetExceededError,
    CallMeta,
    CallUsage,
    ModelPrice,
    Reservation,
)
from agents.models import ModelFactory, ModelSettings
from agents.sample_data import SAMPLE_NOW, InMemoryAgentData
from agents.videos import Video

TEST_MODEL_PRICE = ModelPrice(
    model_id="test/model",
    input_per_token=Decimal("0.000001"),
    output_per_token=Decimal("0.000002"),
    provider="test",
)


@dataclass
class RecordingGuard:
    """Implements the Guard protocol and records every reserve, settle and noted generation."""

    refuse: bool = False
    reserved: list[dict[str, Any]] = field(default_factory=list)
    settled: list[tuple[Reservation, CallUsage]] = field(default_factory=list)
    noted: list[tuple[str, str]] = field(default_factory=list)

    async def reserve(
        self,
        *,
        meta: CallMeta,
        model: ModelPrice,
        prompt_tokens_upper_bound: int,
        max_tokens: int,
        images: int = 0,
    ) -> Reservation:
        if self.refuse:
            raise BudgetExceededError("budget exhausted in test")
        self.reserved.append(
            {
                "meta": meta,
                "model": model,
                "prompt_tokens_upper_bound": prompt_tokens_upper_bound,
                "max_tokens": max_tokens,
                "images": images,
            }
        )
        return Reservation(
            reservation_id=f"r{len(self.reserved)}",
            amount_usd=Decimal("0.01"),
            buckets=("test",),
            meta=meta,
            model=model,
        )

    async def settle(self, reservation: Reservation, usage: CallUsage) -> Decimal:
        self.settled.append((reservation, usage))
        if usage.reported_cost_usd is not None:
            return usage.reported_cost_usd
        return (
            usage.input_tokens * reservation.model.input_per_token
            + usage.output_tokens * reservation.model.output_per_token
            + usage.images * reservation.model.input_per_image
        )

    async def note_generation(self, reservation: Reservation, generation_id: str) -> None:
        self.noted.append((reservation.reservation_id, generation_id))

    @property
    def open_reservations(self) -> set[str]:
        settled = {reservation.reservation_id for reservation, _ in self.settled}
        return {f"r{i}" for i in range(1, len(self.reserved) + 1)} - settled


class CountingData(InMemoryAgentData):
    """Sample data that counts calls and can hold a method until a gate opens."""

    def __init__(self, videos: list[Video] | None = None) -> None:
        super().__init__(videos)
        self.calls: Counter[str] = Counter()
        self.finished: Counter[str] = Counter()
        self.gates: dict[str, asyncio.Event] = {}
        self.failures: dict[str, Exception] = {}

    async def _enter(self, name: str) -> None:
        self.calls[name] += 1
        if name in self.failures:
            raise self.failures[name]
        gate = self.gates.get(name)
        if gate is not None:
            await gate.wait()

    async def videos_for_channel(self, channel_id: str) -> list[Video]:
        await self._enter("videos_for_channel")
        result = await super().videos_for_channel(channel_id)
        self.finished["videos_for_channel"] += 1
        return result

    async def corpus_videos(self, query: str) -> list[Video]:
        await self._enter("corpus_videos")
        result = await super().corpus_videos(query)
        self.finished["corpus_videos"] += 1
        return result

    async def save_factoid(
        self, *, topic: str, text: str, source_video_ids: tuple[str, ...]
    ) -> SavedFactoid:
        await self._enter("save_factoid")
        return await super().save_factoid(topic=topic, text=text, source_video_ids=source_video_ids)

    async def make_thumbnail(
        self, *, meta: CallMeta, prompt: str, title: str, seed: int
    ) -> SavedThumbnail:
        await self._enter("make_thumbnail")
        return await super().make_thumbnail(meta=meta, prompt=prompt, title=title, seed=seed)


def catalogue(model_id: str) -> ModelPrice | None:
    return TEST_MODEL_PRICE if model_id == TEST_MODEL_PRICE.model_id else None


def make_factory(
    *, guard: RecordingGuard, base_url: str = "http://127.0.0.1:9/v1", **settings: Any
) -> ModelFactory:
    async def no_sleep(_: float) -> None:
        return None

    return ModelFactory(
        settings=ModelSettings(base_url=base_url, api_key="test-key", **settings),
        guard=guard,
        catalogue=catalogue,
        sleep=no_sleep,
    )


def make_context(
    *,
    guard: RecordingGuard | None = None,
    data: InMemoryAgentData | None = None,
    factory: ModelFactory | None = None,
    **fields: Any,
) -> Context:
    guard = guard or RecordingGuard()
    return Context(
        deps=AgentDeps(
            models=factory or make_factory(guard=guard),
            data=data or InMemoryAgentData(),
            now=lambda: SAMPLE_NOW,
        ),
        client_id="client-1",
        run_id="run-1",
        session_id="session-1",
        **fields,
    )


@pytest.fixture
def guard() -> RecordingGuard:
    return RecordingGuard()
