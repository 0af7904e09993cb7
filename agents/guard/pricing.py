"""Money arithmetic for the guard: worst-case and actual call costs in micro-dollars.

Worst cases round *up* to the micro-dollar so a reservation never holds less than the
call could cost; actual costs also round up so tiny calls are never recorded as free.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from agents.guard.interface import CallUsage, ModelPrice
from agents.guard.store import MICROS_PER_USD


def usd_to_micros(amount: Decimal) -> int:
    """Round up to whole micro-dollars (never negative)."""
    micros = (amount * MICROS_PER_USD).to_integral_value(rounding=ROUND_CEILING)
    return max(0, int(micros))


def micros_to_usd(micros: int) -> Decimal:
    return Decimal(micros) / MICROS_PER_USD


def worst_case_micros(
    *, model: ModelPrice, prompt_tokens_upper_bound: int, max_tokens: int, images: int = 0
) -> int:
    """The most a call can cost: its prompt's upper bound and ``max_tokens`` at the token
    prices, and each image at the model's per-image price (OpenRouter's ``pricing.image``,
    billed on top of the image's prompt tokens, which the bound already counts)."""
    cost = (
        max(0, prompt_tokens_upper_bound) * model.input_per_token
        + max(0, max_tokens) * model.output_per_token
        + max(0, images) * model.input_per_image
    )
    return usd_to_micros(cost)


def actual_micros(*, model: ModelPrice, usage: CallUsage) -> int:
    """The provider's own figure when it reports one (OpenRouter's ``usage.cost`` is what
    is billed, including provider-specific pricing we cannot reproduce); otherwise the
    tokens priced with the catalogue price, plus each image sent at its per-image price."""
    if usage.reported_cost_usd is not None:
        return usd_to_micros(usage.reported_cost_usd)
    cost = (
        max(0, usage.input_tokens) * model.input_per_token
        + max(0, usage.output_tokens) * model.output_per_token
        + max(0, usage.images) * model.input_per_image
    )
    return usd_to_micros(cost)


def settled_micros(*, model: ModelPrice, usage: CallUsage, reserved_micros: int) -> int:
    """What a call is charged at settle.

    A reported call costs what it reported (``actual_micros``). An unreported one (it
    ended before the provider's usage arrived, see ``CallUsage.unreported``) costs the
    worst case that was reserved for it: input at the prompt's upper bound and output at
    ``max_tokens``. That is the only figure known to be at least the bill — providers
    bill a cancelled stream's prompt and what they generated (hidden reasoning tokens
    included, which never reach the stream), some finish the generation after the client
    has gone — and the reconciliation job corrects it to the billed cost where the
    provider can report it (OpenRouter's generation lookup).
    """
    priced = actual_micros(model=model, usage=usage)
    if usage.unreported:
        return max(reserved_micros, priced)
    return priced
