from __future__ import annotations

import statistics

import numpy as np  # a dev dependency only: the product computes quantiles itself
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agents.analytics.stats import median, quantile_sorted

finite = st.floats(-1e9, 1e9, allow_nan=False)


@pytest.mark.parametrize(
    ("data", "q1", "q2", "q3"),
    [
        # Worked by hand with h = (n - 1) * p, x[floor h] + frac(h) * (next - x[floor h]).
        ([1, 2, 3, 4], 1.75, 2.5, 3.25),
        ([7, 15, 36, 39, 40, 41], 20.25, 37.5, 39.75),
        (list(range(1, 11)), 3.25, 5.5, 7.75),
        ([5], 5, 5, 5),
        ([1, 3], 1.5, 2, 2.5),
    ],
)
def test_quartiles_match_hand_computed_numpy_linear(data, q1, q2, q3) -> None:
    xs = sorted(data)
    assert quantile_sorted(xs, 0.25) == pytest.approx(q1)
    assert quantile_sorted(xs, 0.5) == pytest.approx(q2)
    assert quantile_sorted(xs, 0.75) == pytest.approx(q3)


@given(st.lists(finite, min_size=2, max_size=60))
def test_quartiles_equal_statistics_inclusive(data: list[float]) -> None:
    xs = sorted(data)
    expected = statistics.quantiles(xs, n=4, method="inclusive")
    got = [quantile_sorted(xs, p) for p in (0.25, 0.5, 0.75)]
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-6)


@given(st.lists(finite, min_size=1, max_size=60), st.floats(0, 1))
def test_quantile_is_within_data_range(data: list[float], p: float) -> None:
    xs = sorted(data)
    assert xs[0] <= quantile_sorted(xs, p) <= xs[-1]


@given(st.lists(finite, min_size=1, max_size=60), st.floats(0, 1))
def test_quantile_matches_numpy(data: list[float], p: float) -> None:
    assert quantile_sorted(sorted(data), p) == pytest.approx(
        float(np.quantile(data, p)), rel=1e-9, abs=1e-6
    )


def test_errors_and_median() -> None:
    with pytest.raises(ValueError, match="empty"):
        quantile_sorted([], 0.5)
    with pytest.raises(ValueError, match="within"):
        quantile_sorted([1.0], 1.5)
    assert median([]) is None
    assert median([3, 1, 2]) == 2
