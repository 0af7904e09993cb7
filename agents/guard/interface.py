"""The contract between the chat-model factory and the cost guard.

The factory (``agents.models``) wraps every chat model so that each attempt at a model
call does ``reserve`` before it and ``settle`` after it, whatever happens in between.
The concrete guard and its budget stores implement :class:`Guard`; the factory only
knows this protocol.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol


@dataclass(frozen=True, kw_only=True)
class CallMeta:
    """Who is calling a model and why: selects the budget buckets that apply."""

    client_id: str
    feature: str  # "plan", "respond", "tool:content_ideas", "factoid", ...
    plan: str = "anonymous"
    run_id: str | None = None
    session_id: str | None = None
    ip_hash: str | None = None
    api_key_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class CallerProfile:
    """What the guard learns about a caller when it calls (an account's plan and credits).

    The backend looks it up per call, so a plan bought or credits added apply from the
    next call on, even for runs queued before. ``credits_usd`` is everything ever credited
    to the caller (purchases less what refunds and disputes took back): the lifetime limit
    of the ``credits_key`` bucket, whose counters hold what the caller has drawn.
    """

    plan: str
    credits_key: str | None = None
    credits_usd: Decimal = Decimal(0)


@dataclass(frozen=True, kw_only=True)
class ModelPrice:
    """A model the catalogue knows, with its price in USD per token (and per input image)."""

    model_id: str
    input_per_token: Decimal
    output_per_token: Decimal
    context_length: int | None = None
    offline: bool = False
    provider: str = "openrouter"
    # USD per image in the prompt, on top of its tokens (OpenRouter's ``pricing.image``);
    # 0 for a model that bills images as prompt tokens only, or takes none.
    input_per_image: Decimal = Decimal(0)


@dataclass(frozen=True, kw_only=True)
class Reservation:
    """Money and capacity held for one model call until it is settled."""

    reservation_id: str
    amount_usd: Decimal
    buckets: tuple[str, ...]
    meta: CallMeta
    model: ModelPrice
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class CallUsage:
    """What a finished (or failed) call really used."""

    input_tokens: int = 0
    output_tokens: int = 0
    # Provider-reported cost (OpenRouter's ``usage.cost``) when the response carries it;
    # otherwise the guard prices the tokens itself.
    reported_cost_usd: Decimal | None = None
    is_error: bool = False
    latency_s: float = 0.0
    # The call ended before the provider said what it used (cancelled, timed out, the
    # connection dropped mid-answer, a stream without a usage chunk) while the provider
    # may still bill it: the guard settles it at the reservation's worst case (an
    # estimate, corrected later when the provider can say what it billed).
    unreported: bool = False
    # The provider's id for the generation (the ``id`` of the response or its stream
    # chunks), by which OpenRouter reports the billed cost afterwards.
    generation_id: str | None = None
    # Images the call sent (and the provider may bill): with no reported cost, each is
    # priced at the model's ``input_per_image`` on top of the tokens.
    images: int = 0


class GuardError(Exception):
    """Base for refusals by the guard; ``code`` is the DESIGN.md error code."""

    code = "INTERNAL_ERROR"
    http_status = 500

    def __init__(self, message: str, *, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class BudgetExceededError(GuardError):
    code = "BUDGET_EXCEEDED"
    http_status = 402


class RateLimitedError(GuardError):
    code = "RATE_LIMITED"
    http_status = 429

    def __init__(
        self, message: str, *, retry_after_s: float, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.retry_after_s = retry_after_s


class GuardUnavailableError(GuardError):
    """The budget store cannot be reached and the guard fails closed."""

    code = "AI_SERVICE_UNAVAILABLE"
    http_status = 503


class SettleDeferredError(GuardUnavailableError):
    """The store could not record a settle now; ``cost_usd`` is what the call is charged.

    The caller records the call as pending (keeping the reservation's settlement record,
    ``agents.guard.settlement``) so a periodic job completes the settle once the store is
    back: until then the reservation holds its concurrency slot.
    """

    def __init__(self, message: str, *, cost_usd: Decimal, details: dict[str, Any]) -> None:
        super().__init__(message, details=details)
        self.cost_usd = cost_usd


class UnknownModelPriceError(GuardError):
    """A model with no known price is refused, never treated as free."""

    code = "VALIDATION_ERROR"
    http_status = 400


class Guard(Protocol):
    async def reserve(
        self,
        *,
        meta: CallMeta,
        model: ModelPrice,
        prompt_tokens_upper_bound: int,
        max_tokens: int,
        images: int = 0,
    ) -> Reservation:
        """Hold the worst-case cost in every bucket that applies, all or nothing: the
        tokens, plus ``images`` × the model's ``input_per_image``.

        Raises BudgetExceededError, RateLimitedError or GuardUnavailableError.
        """
        ...

    async def settle(self, reservation: Reservation, usage: CallUsage) -> Decimal:
        """Record the real cost, release the rest of the hold; returns the settled cost.

        Raises SettleDeferredError when the store cannot record it now.
        """
        ...

    async def note_generation(self, reservation: Reservation, generation_id: str) -> None:
        """Keep the provider's generation id with the reservation (best effort: the
        caller logs a failure and carries on), so a reservation whose holder dies can
        still be corrected to what the provider billed."""
        ...
