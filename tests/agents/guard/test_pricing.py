"""Worst-case and actual cost arithmetic."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from agents.guard import CallUsage, ModelPrice
from agents.guard.pricing import actual_micros, micros_to_usd, usd_to_micros, worst_case_micros

prices = st.decimals(min_value=0, max_value=Decimal("0.0002"), places=12)
tokens = st.integers(min_value=0, max_value=2_000_000)


def price(input_per_token: Decimal, output_per_token: Decimal) -> ModelPrice:
    return ModelPrice(
        model_id="m", input_per_token=input_per_token, output_per_token=output_per_token
    )


@given(prices, prices, tokens, tokens)
def test_worst_case_is_the_exact_bound_rounded_up_to_a_micro_dollar(inp, out, prompt, completion):
    exact = prompt * inp + completion * out
    micros = worst_case_micros(
        model=price(inp, out), prompt_tokens_upper_bound=prompt, max_tokens=completion
    )
    held = micros_to_usd(micros)
    assert held >= exact
    assert held - exact < Decimal("0.000001")


@given(prices, prices, tokens, tokens, st.integers(0, 10), st.integers(0, 10))
def test_actual_usage_within_the_bounds_never_costs_more_than_the_worst_case(
    inp, out, prompt, completion, fewer_in, fewer_out
):
    model = price(inp, out)
    usage = CallUsage(
        input_tokens=prompt * fewer_in // 10, output_tokens=completion * fewer_out // 10
    )
    assert actual_micros(model=model, usage=usage) <= worst_case_micros(
        model=model, prompt_tokens_upper_bound=prompt, max_tokens=completion
    )


def test_worst_case_example():
    model = price(Decimal("0.000003"), Decimal("0.000015"))  # $3 / $15 per million tokens
    assert worst_case_micros(model=model, prompt_tokens_upper_bound=1001, max_tokens=333) == 7_998
    # A fraction of a micro-dollar is held as a whole one, never as zero.
    assert (
        worst_case_micros(
            model=price(Decimal("0.0000001"), Decimal(0)),
            prompt_tokens_upper_bound=15,
            max_tokens=0,
        )
        == 2
    )


def test_reported_cost_wins_over_token_pricing_and_is_never_negative():
    model = price(Decimal("0.001"), Decimal("0.001"))
    usage = CallUsage(input_tokens=1000, output_tokens=1000, reported_cost_usd=Decimal("0.25"))
    assert actual_micros(model=model, usage=usage) == 250_000
    assert actual_micros(model=model, usage=CallUsage(input_tokens=3)) == 3_000
    assert usd_to_micros(Decimal("-1")) == 0
