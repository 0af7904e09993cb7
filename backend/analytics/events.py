"""Product events and ``$ai_generation`` for every LLM call (PostHog LLM analytics names)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import structlog

from backend.analytics.client import get_client

logger = structlog.get_logger(__name__)

PRODUCT_EVENTS = frozenset(
    {
        "chat_message_sent",
        "run_completed",
        "run_failed",
        "budget_soft_limit_reached",
        "budget_exceeded",
        "rate_limited",
        "factoid_generated",
        "factoid_voted",
        "factoid_feedback",
        "account_registered",
        "checkout_started",
        "checkout_completed",
        "plan_changed",
    }
)


def capture(event: str, *, distinct_id: str, properties: dict[str, Any] | None = None) -> None:
    client = get_client()
    if client is None:
        return
    try:
        client.capture(event, distinct_id=distinct_id or "anonymous", properties=properties or {})
    except Exception:  # analytics must never break a request
        logger.exception("posthog_capture_failed", analytics_event=event)


def capture_generation(
    *,
    distinct_id: str,
    trace_id: str | None,
    model: str,
    provider: str,
    input_tokens: int,
    output_tokens: int,
    latency_s: float,
    input_cost_usd: Decimal,
    output_cost_usd: Decimal,
    is_error: bool,
    feature: str,
    session_id: str | None,
    error: str | None = None,
    http_status: int | None = None,
) -> None:
    """One ``$ai_generation``; costs are the guard's settled figures so PostHog matches the
    ledger. Prompts and outputs are never sent (privacy mode by default)."""
    properties: dict[str, Any] = {
        "$ai_trace_id": trace_id,
        "$ai_model": model,
        "$ai_provider": provider,
        "$ai_input_tokens": input_tokens,
        "$ai_output_tokens": output_tokens,
        "$ai_latency": round(latency_s, 4),
        "$ai_input_cost_usd": float(input_cost_usd),
        "$ai_output_cost_usd": float(output_cost_usd),
        "$ai_total_cost_usd": float(input_cost_usd + output_cost_usd),
        "$ai_is_error": is_error,
        "$ai_span_name": feature,
        "feature": feature,
        "$ai_session_id": session_id,
    }
    if error:
        properties["$ai_error"] = error[:500]
    if http_status:
        properties["$ai_http_status"] = http_status
    capture("$ai_generation", distinct_id=distinct_id, properties=properties)
