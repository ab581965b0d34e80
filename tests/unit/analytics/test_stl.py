"""Vigil's STL (infra/analytics/methods/_stl.py) against statsmodels' on the windows
`_prep.stl` chooses: the same trend, seasonal and residual to rounding, for long and short
series, periods whose cycle-subseries are shorter or longer than the seasonal window, and
series that end mid-cycle or between two loess jumps."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.tsa.seasonal import STL

from domain.analytics.results import PeriodName
from domain.analytics.series import DAY_US, Grid
from infra.analytics.methods import forecast, seasonality
from infra.analytics.methods._prep import stl


def reference(y: np.ndarray, period: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    trend = math.ceil(1.5 * period / (1 - 1.5 / 7))
    trend += trend % 2 == 0
    low_pass = period + 1 + period % 2
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
        (400, 7),
        (2_000, 25),
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


def test_a_weekly_pattern_of_daily_buckets_is_found_and_forecast() -> None:
    """An odd period (7 daily buckets) once had no valid low-pass window: SEASONALITY and
    FORECAST of daily data with a weekly pattern failed with statsmodels' window error."""
    rng = np.random.default_rng(2)
    t = np.arange(400)
    values = 50 + 5 * (((t + 3) % 7) < 5) + rng.normal(0, 0.5, 400)
    grid = Grid(1_700_006_400_000_000, DAY_US, values, {"s": "weekly"})
    found = seasonality(grid).periods
    assert [p.period_buckets for p in found] == [7] and found[0].name is PeriodName.WEEK
    result = forecast(grid, horizon=28)
    assert len(result.mean) == 28 and result.period_buckets == 7
