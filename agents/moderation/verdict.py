"""What a moderation check answers, the policy that turns a source's categories into a
refusal, and the one interface every checker implements."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


class ModerationUnavailable(Exception):
    """The checker could not give an answer (down, timed out, malformed reply)."""

    def __init__(self, reason: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_s = retry_after_s


@dataclass(frozen=True, kw_only=True)
class Verdict:
    """``flagged``: one of the texts is refused; ``index`` says which (the first such),
    ``categories`` why (the refusing categories, the most confident first) and ``scores``
    its scores. ``source`` names the checker (``rules``, ``endpoint:<model>``)."""

    flagged: bool
    categories: tuple[str, ...] = ()
    scores: Mapping[str, float] = field(default_factory=dict)
    source: str
    index: int | None = None


@dataclass(frozen=True, kw_only=True)
class ModerationPolicy:
    """``block``: the categories that refuse a text (``None``: every category the source
    flags). ``thresholds``: a category listed here refuses at or above that score instead
    of by the source's own yes/no (for sources that give scores)."""

    block: frozenset[str] | None = None
    thresholds: Mapping[str, float] = field(default_factory=dict)

    def refusing(
        self, categories: Mapping[str, bool], scores: Mapping[str, float]
    ) -> tuple[str, ...]:
        names = list(dict.fromkeys([*categories, *self.thresholds]))
        hits = []
        for name in names:
            if self.block is not None and name not in self.block:
                continue
            threshold = self.thresholds.get(name)
            if threshold is None:
                hit = bool(categories.get(name))
            else:
                hit = float(scores.get(name, 0.0)) >= threshold
            if hit:
                hits.append(name)
        # Most confident first; ties keep the source's order.
        return tuple(sorted(hits, key=lambda name: -float(scores.get(name, 0.0))))


class Moderator(Protocol):
    """Checks texts before they reach a model. Raises ``ModerationUnavailable`` when it
    cannot answer; never returns a guess."""

    @property
    def source(self) -> str: ...

    def check(self, texts: Sequence[str]) -> Verdict: ...


def first_refusal(
    results: Sequence[tuple[Mapping[str, bool], Mapping[str, float]]],
    *,
    policy: ModerationPolicy,
    source: str,
) -> Verdict:
    """The verdict over per-text ``(categories, scores)``: the first text the policy refuses."""
    for index, (categories, scores) in enumerate(results):
        refusing = policy.refusing(categories, scores)
        if refusing:
            return Verdict(
                flagged=True,
                categories=refusing,
                scores=dict(scores),
                source=source,
                index=index,
            )
    return Verdict(flagged=False, source=source)
