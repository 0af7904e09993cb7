"""Checks at the HTTP entry points that can cost money: answer 429/402 before enqueuing."""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings

from agents.guard import BudgetExceededError, CallMeta, RateLimitedError
from agents.models import IMAGE_INPUT_TOKENS
from backend.clients.identity import Identity
from backend.core.errors import ValidationError
from backend.guard.instance import get_guard
from backend.guard.models import GuardEvent
from backend.guard.services import guard_event_record, guard_refusal_count

# Without the prompt in hand, an entry point assumes this many prompt tokens on top of the
# user's text (system prompt, tools, trimmed history): the history budget bounds it.
ENTRY_PROMPT_ALLOWANCE_TOKENS = 4096


def _refused(exc: Exception, *, client_id: str) -> None:
    from backend.analytics.events import capture

    if isinstance(exc, RateLimitedError):
        kind, bucket = GuardEvent.Kind.RATE_LIMITED, str(exc.details.get("key", ""))
    else:
        kind, bucket = (
            GuardEvent.Kind.BUDGET_EXCEEDED,
            str(getattr(exc, "details", {}).get("bucket", "")),
        )
    guard_event_record(kind=kind, client_id=client_id, bucket=bucket)
    guard_refusal_count(where="entry", exc=exc)
    capture(str(kind), distinct_id=client_id, properties={"bucket": bucket})


def rate_limit_client_minting(*, ip_hash: str) -> None:
    async def hit() -> None:
        await get_guard().hit_rate_limit(
            key=f"mint:{ip_hash}", limit_per_minute=settings.ENV.CLIENT_MINT_PER_MINUTE
        )

    try:
        async_to_sync(hit)()
    except RateLimitedError as exc:
        _refused(exc, client_id="")
        raise


def check_call_allowed(
    *,
    identity: Identity,
    model_id: str,
    feature: str,
    session_id: str | None = None,
    prompt_text: str = "",
    max_tokens: int,
    images: int = 0,
    prompt_tokens_upper_bound: int | None = None,
) -> dict[str, Any]:
    """Rate limits per client and IP hash, model price and plan, and the budget pre-flight.

    The prompt is bounded by ``prompt_tokens_upper_bound`` when the caller has built it,
    else by ``prompt_text`` plus an allowance for what is added to it (and the guard's
    fixed count for each of its ``images``, which are also priced per image)."""
    from backend.llm.selectors import model_price

    price = model_price(model_id=model_id)
    if price is None:
        raise ValidationError.for_field("model", f"unknown model or no known price: {model_id!r}")
    meta = CallMeta(
        client_id=identity.client_id,
        feature=feature,
        plan=identity.plan,
        session_id=session_id,
        ip_hash=identity.ip_hash,
        api_key_id=identity.api_key_id,
    )
    from backend.guard.instance import guard_limits

    # The plan's rate (accounts and paid keys get more), the default for unknown plans.
    limit = (
        guard_limits().plan_limits(identity.plan).requests_per_minute
        or settings.ENV.GUARD_REQUESTS_PER_MINUTE
    )
    prompt_bound = prompt_tokens_upper_bound
    if prompt_bound is None:
        prompt_bound = (
            len(prompt_text.encode()) + ENTRY_PROMPT_ALLOWANCE_TOKENS + IMAGE_INPUT_TOKENS * images
        )

    async def check() -> Any:
        guard = get_guard()
        await guard.hit_rate_limit(key=f"client:{identity.client_id}", limit_per_minute=limit)
        await guard.hit_rate_limit(key=f"ip:{identity.ip_hash}", limit_per_minute=limit)
        return await guard.check(
            meta=meta,
            model=price,
            prompt_tokens_upper_bound=prompt_bound,
            max_tokens=max_tokens,
            images=images,
        )

    try:
        remaining = async_to_sync(check)()
    except (RateLimitedError, BudgetExceededError) as exc:
        _refused(exc, client_id=identity.client_id)
        raise
    return {"model": price, "remaining_usd": remaining}
