"""``moderate``: check a request's free texts before anything is recorded, queued or sent
to a model. Refused → ``ContentRejectedError`` (400 naming the field and the category);
the checker down or out of time → ``ModerationUnavailableError`` (503, Retry-After) unless
``MODERATION_FAIL_OPEN``. The text itself is never logged."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import structlog
from asgiref.sync import sync_to_async
from django.conf import settings

from agents.moderation import (
    EndpointModerator,
    ModerationPolicy,
    ModerationUnavailable,
    Moderator,
    RuleModerator,
    Verdict,
    free_text_fields,
)
from backend.clients.identity import Identity
from backend.core.errors import ContentRejectedError, ModerationUnavailableError
from backend.moderation import counters

logger = structlog.get_logger(__name__)

# MODERATION_API_KEY alone means OpenAI's own endpoint.
OPENAI_BASE_URL = "https://api.openai.com/v1"

_lock = threading.Lock()
_current: tuple[tuple[Any, ...], Moderator] | None = None


def moderator() -> Moderator:
    """The process's checker for the current settings: the endpoint when ``MODERATION_URL``
    (or ``MODERATION_API_KEY``) is set, else the rule list. Built once per settings."""
    global _current
    env = settings.ENV
    base_url = env.MODERATION_URL or (OPENAI_BASE_URL if env.MODERATION_API_KEY else None)
    block = frozenset(env.MODERATION_BLOCK_CATEGORIES) or None
    thresholds = dict(env.MODERATION_THRESHOLDS)
    key = (
        base_url,
        env.MODERATION_API_KEY,
        env.MODERATION_MODEL,
        env.MODERATION_TIMEOUT_S,
        block,
        tuple(sorted(thresholds.items())),
    )
    with _lock:
        if _current is not None and _current[0] == key:
            return _current[1]
        policy = ModerationPolicy(block=block, thresholds=thresholds)
        built: Moderator
        if base_url:
            built = EndpointModerator(
                base_url=base_url,
                api_key=env.MODERATION_API_KEY,
                model=env.MODERATION_MODEL,
                timeout_s=env.MODERATION_TIMEOUT_S,
                policy=policy,
            )
        else:
            built = RuleModerator(policy=policy)
        _current = (key, built)
        return built


def moderate(texts: Mapping[str, str], *, identity: Identity, feature: str) -> Verdict:
    """Check ``{field: text}`` (blank texts are skipped) in one call to the checker.

    Raises ``ContentRejectedError`` naming the first refused field and its category, or
    ``ModerationUnavailableError`` when the checker cannot answer (fail-closed)."""
    fields = [(field, text) for field, text in texts.items() if text and text.strip()]
    checker = moderator()
    if not fields:
        return Verdict(flagged=False, source=checker.source)
    try:
        verdict = checker.check([text for _field, text in fields])
    except ModerationUnavailable as exc:
        counters.incr(counters.UNAVAILABLE_KEY)
        fail_open = settings.ENV.MODERATION_FAIL_OPEN
        logger.warning(
            "moderation_unavailable",
            reason=exc.reason,
            source=checker.source,
            feature=feature,
            client_id=identity.client_id,
            fail_open=fail_open,
        )
        if fail_open:
            return Verdict(flagged=False, source=f"{checker.source}:fail-open")
        raise ModerationUnavailableError(
            retry_after_s=exc.retry_after_s, details={"reason": exc.reason}
        ) from None
    if not verdict.flagged:
        return verdict
    index = verdict.index or 0
    field, text = fields[index]
    category = verdict.categories[0] if verdict.categories else "unspecified"
    for name in verdict.categories or (category,):
        counters.incr(f"{counters.REJECTED_PREFIX}{name}")
    logger.info(
        "moderation_rejected",
        feature=feature,
        field=field,
        categories=list(verdict.categories),
        source=verdict.source,
        chars=len(text),
        client_id=identity.client_id,
        plan=identity.plan,
    )
    raise ContentRejectedError(
        f"{field}: this text was not accepted ({category}). Please rephrase it.",
        details={"field": field, "category": category, "categories": list(verdict.categories)},
    )


async def amoderate(texts: Mapping[str, str], *, identity: Identity, feature: str) -> Verdict:
    """``moderate`` from async code: the checker's blocking call runs off the event loop."""
    return await sync_to_async(moderate, thread_sensitive=False)(
        texts, identity=identity, feature=feature
    )


def moderate_tool_args(
    args: Mapping[str, Any], *, identity: Identity, feature: str, prefix: str = ""
) -> Verdict:
    """``moderate`` over a tool's free-text arguments (``agents.moderation.FREE_TEXT_ARGS``),
    each named by its path (``topic``, ``seeds[0].topic``; under ``prefix``: ``args.topic``)."""
    return moderate(free_text_fields(args, prefix=prefix), identity=identity, feature=feature)


def reset_for_tests() -> None:
    global _current
    with _lock:
        if _current is not None and isinstance(_current[1], EndpointModerator):
            _current[1].close()
        _current = None
    counters.reset_for_tests()
