"""Small statistics shared by the tools, in the stdlib, matching numpy's defaults.

``quantile`` is numpy's default ("linear", R type 7) method: on sorted data ``x`` of
length ``n`` the p-quantile sits at position ``h = (n - 1) * p`` and interpolates
``x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)])``. It equals
``statistics.quantiles(data, n=4, method="inclusive")`` for the quartiles.
"""

from __future__ import annotations

from collections.abc import Sequence


def quantile_sorted(sorted_values: Sequence[float], p: float) -> float:
    """The p-quantile (0 <= p <= 1) of already sorted, non-empty data, numpy "linear"."""
    n = len(sorted_values)
    if n == 0:
        raise ValueError("quantile of an empty sequence")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"quantile p must be within [0, 1], got {p}")
    position = (n - 1) * p
    lower = int(position)
    fraction = position - lower
    if lower + 1 >= n or fraction == 0.0:
        return float(sorted_values[lower])
    low_value = sorted_values[lower]
    return float(low_value + fraction * (sorted_values[lower + 1] - low_value))


def median_sorted(sorted_values: Sequence[float]) -> float:
    return quantile_sorted(sorted_values, 0.5)


def median(values: Sequence[float]) -> float | None:
    """Median of unsorted data, ``None`` when empty."""
    return median_sorted(sorted(values)) if values else None


def engagement_rate(*, views: int, likes: int, comments: int) -> float:
    """(likes + comments) / max(1, views): the one engagement figure every tool uses."""
    return (likes + comments) / max(1, views)


__all__ = ["engagement_rate", "median", "median_sorted", "quantile_sorted"]
