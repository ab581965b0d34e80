"""SEASONALITY finds a daily period through gaps, and says none when there is none."""

from __future__ import annotations

import numpy as np

from domain.analytics.results import PeriodName
from domain.analytics.series import DAY_US, HOUR_US, MINUTE_US
from infra.analytics.methods import seasonality
from tests.unit.analytics.support import FIVE_MIN, daily, grid


def test_daily_period_found_with_ten_percent_missing() -> None:
    result = seasonality(grid(daily(14, seed=1, amplitude=1.5, missing=0.1)))
    assert [p.name for p in result.periods] == [PeriodName.DAY]
    day = result.periods[0]
    assert day.period_us == DAY_US and day.period_buckets == 288
    assert 0.5 < day.strength <= 1.0
    # The profile starts at midnight UTC: the sine peaks at 06:00.
    assert abs(int(np.argmax(day.profile)) * FIVE_MIN - 6 * HOUR_US) <= HOUR_US
    assert len(day.profile) == 288 and abs(sum(day.profile)) < 1e-6


def test_weekly_pattern_is_week_not_day() -> None:
    rng = np.random.default_rng(2)
    step = HOUR_US
    n = 6 * 168
    phase = (np.arange(n) % 168) / 168
    values = 10 + 2 * (phase < 5 / 7) + rng.normal(0, 0.5, n)  # weekdays busy
    result = seasonality(grid(values, step_us=step))
    assert [p.name for p in result.periods] == [PeriodName.WEEK]


def test_hourly_pattern_at_one_minute() -> None:
    rng = np.random.default_rng(3)
    n = 3_000
    values = np.sin(2 * np.pi * np.arange(n) / 60) + rng.normal(0, 0.5, n)
    result = seasonality(grid(values, step_us=MINUTE_US))
    assert [p.name for p in result.periods] == [PeriodName.HOUR]


def test_none_for_noise_random_walk_and_trend() -> None:
    rng = np.random.default_rng(4)
    for values in (
        rng.normal(size=5_000),
        np.cumsum(rng.normal(size=5_000)),
        0.01 * np.arange(5_000) + rng.normal(size=5_000),
    ):
        assert seasonality(grid(values)).none


def test_too_short_for_any_period_is_none() -> None:
    assert seasonality(grid(np.sin(np.arange(10)))).none
