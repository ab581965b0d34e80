"""Vigil's STL (infra/analytics/methods/_stl.py) against statsmodels' on the windows
`_prep.stl` chooses: the same trend, seasonal and residual to rounding, for long and short
series, periods whose cycle-subseries are shorter or longer than the seasonal window, and
series that end mid-cycle or between two loess jumps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.tsa.seasonal import STL

from infra.analytics.methods._prep import stl


def reference(y: np.ndarray, period: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    trend = math.ceil(1.5 * period / (1 - 1.5 / 7))
    trend += trend % 2 == 0
    low_pass = period + (period % 2 == 0)
    fit = STL(
        y,
        period=period,
        seasonal=7,
        trend=trend,
        low_pass=low_pass,
        seasonal_jump=1,
        trend_jump=math.ceil(trend / 10),
        low_pass_jump=math.ceil(low_pass / 10),
    ).fit(inner_iter=2, outer_iter=0)
    return np.asarray(fit.trend), np.asarray(fit.seasonal), np.asarray(fit.resid)


@pytest.mark.parametrize(
    ("length", "period"),
    [
        (10_000, 1_440),
        (10_000, 288),
        (10_000, 60),
        (4_281, 1_440),
        (2_017, 2_016 // 7),
        (3_000, 2),
        (100, 12),
        (50, 24),
        (30, 4),
        (1_003, 168),
    ],
)
def test_stl_equals_statsmodels(length: int, period: int) -> None:
    rng = np.random.default_rng(length + period)
    t = np.arange(length)
    y = 50 + 5 * np.sin(2 * np.pi * t / period) + rng.normal(0, 1 + t / length, length) + 0.01 * t
    got, expected = stl(y, period), reference(y, period)
    scale = float(np.std(y))
    for part, want in zip(got, expected, strict=True):
        assert np.max(np.abs(part - want)) <= 1e-9 * scale


def test_odd_periods_are_refused_as_statsmodels_refuses_them() -> None:
    with pytest.raises(ValueError, match="low_pass"):
        stl(np.arange(100.0), 7)
