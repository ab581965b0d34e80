"""CORRELATION: which series changed their distribution in a window, most first."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.stats import ks_2samp

from domain.analytics.results import CorrelatedSeries, CorrelationResult
from domain.analytics.series import Grid

__all__ = ["BASELINE_FACTOR", "MIN_POINTS", "correlation"]

BASELINE_FACTOR = 4  # the baseline is the span just before the window, 4x as long
MIN_POINTS = 5


def correlation(
    series: Sequence[Grid], *, window_start_us: int, window_end_us: int, top: int | None = None
) -> CorrelationResult:
    """Two-sample Kolmogorov-Smirnov of each series' window against its baseline, ranked by
    the statistic D (the largest gap between the two distributions, 0 to 1), ties by the
    p-value. A series with fewer than MIN_POINTS buckets on either side is left out.

    D is scale-free, so a CPU percentage and a request count rank on one list; it sees any
    change in distribution (level, spread, shape), not only a shift of the mean.
    """
    if window_end_us <= window_start_us:
        raise ValueError("the window must end after it starts")
    baseline_start = window_start_us - BASELINE_FACTOR * (window_end_us - window_start_us)
    ranked: list[CorrelatedSeries] = []
    for grid in series:
        window = _values(grid.window(window_start_us, window_end_us))
        baseline = _values(grid.window(baseline_start, window_start_us))
        if window.size < MIN_POINTS or baseline.size < MIN_POINTS:
            continue
        # The asymptotic p-value: the exact one costs seconds on 10k-point windows.
        test = ks_2samp(window, baseline, method="asymp")
        ranked.append(
            CorrelatedSeries(
                tags=grid.tags,
                statistic=float(test.statistic),
                p_value=float(test.pvalue),
                window_mean=float(window.mean()),
                baseline_mean=float(baseline.mean()),
                window_points=int(window.size),
                baseline_points=int(baseline.size),
            )
        )
    ranked.sort(key=lambda r: (-r.statistic, r.p_value if math.isfinite(r.p_value) else 1.0))
    return CorrelationResult(
        window_start_us=window_start_us,
        window_end_us=window_end_us,
        baseline_start_us=baseline_start,
        baseline_end_us=window_start_us,
        ranked=tuple(ranked[:top] if top is not None else ranked),
    )


def _values(grid: Grid) -> np.ndarray:
    return np.asarray(grid.values[grid.observed], dtype=np.float64)
