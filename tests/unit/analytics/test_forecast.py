"""FORECAST beats seasonal naive on a seasonal series, with bands that hold their level."""

from __future__ import annotations

import numpy as np
import pytest

from domain.analytics.results import ForecastModel
from infra.analytics.methods import forecast
from infra.analytics.methods.forecast.models import TheilSen
from tests.unit.analytics.support import FIVE_MIN, daily, grid


def _seasonal_ar(days: int, seed: int) -> np.ndarray:
    """A daily shape plus AR(1) noise and a slow trend: what seasonal naive handles worst
    (it copies yesterday's noise) and STL+ETS should handle best."""
    rng = np.random.default_rng(seed)
    n = days * 288
    e = np.zeros(n)
    for i in range(1, n):
        e[i] = 0.7 * e[i - 1] + rng.normal(0, 1)
    return daily(days, seed=seed, amplitude=6, noise=0.0) + e + 0.002 * np.arange(n)


def test_seasonal_series_beats_seasonal_naive() -> None:
    values = _seasonal_ar(24, seed=1)
    train, test = values[: 20 * 288], values[20 * 288 :]
    result = forecast(grid(train), horizon=len(test))
    assert result.period_buckets == 288
    assert result.model is not ForecastModel.SEASONAL_NAIVE_DRIFT
    assert result.scores.relative_mae < 1.0  # in the backtest
    naive = train[-288:][np.arange(len(test)) % 288]
    ours = np.asarray(result.mean)
    assert np.abs(test - ours).mean() < 0.9 * np.abs(test - naive).mean()  # on held-out data


def test_bands_nest_and_cover_held_out_data() -> None:
    values = _seasonal_ar(30, seed=2)
    train, test = values[: 25 * 288], values[25 * 288 :]
    result = forecast(grid(train), horizon=len(test), period=288)
    lo95, lo80 = np.asarray(result.lower95), np.asarray(result.lower80)
    hi80, hi95 = np.asarray(result.upper80), np.asarray(result.upper95)
    assert (lo95 <= lo80).all() and (lo80 <= hi80).all() and (hi80 <= hi95).all()
    covered95 = ((test >= lo95) & (test <= hi95)).mean()
    covered80 = ((test >= lo80) & (test <= hi80)).mean()
    assert 0.85 <= covered95 <= 1.0
    assert 0.65 <= covered80 <= 0.95
    assert 0.7 <= result.scores.coverage80 <= 0.9  # the backtest's cross-fitted figure
    assert 0.88 <= result.scores.coverage95 <= 1.0


def test_answer_is_drawable() -> None:
    g = grid(daily(10, seed=3, missing=0.1))
    result = forecast(g, horizon=144)
    assert result.start_us == g.end_us and result.step_us == FIVE_MIN
    assert len(result.mean) == len(result.upper95) == 144
    assert {c.model for c in result.candidates} == set(ForecastModel)
    assert result.scores.origins >= 20 and result.scores.horizon == 144
    assert all(np.isfinite(result.mean))


def test_horizon_shortened_to_what_the_history_can_backtest() -> None:
    result = forecast(grid(daily(4, seed=4)), horizon=10_000, period=288)
    assert 0 < len(result.mean) < 4 * 288


def test_too_short_history_is_refused() -> None:
    with pytest.raises(ValueError, match="too few"):
        forecast(grid(np.arange(30.0)), horizon=5, period=12)


def test_trend_without_season_is_extrapolated() -> None:
    rng = np.random.default_rng(5)
    values = 0.05 * np.arange(3_000) + rng.normal(0, 1, 3_000)
    result = forecast(grid(values), horizon=300, period=1)
    assert result.mean[-1] == pytest.approx(0.05 * 3_299, abs=3)


@pytest.mark.parametrize(("length", "period"), [(10_000, 1_440), (2_881, 1_440), (100, 7), (7, 7)])
def test_theil_sen_levels_are_each_phases_median(length: int, period: int) -> None:
    """The phase levels come from one sort of the stacked cycles: the same numbers as a
    median per phase, whole cycles or not."""
    rng = np.random.default_rng(length)
    y = rng.normal(50, 5, length)
    model = TheilSen()
    model.fit(y, period)
    rest = y - model.slope * np.arange(length)
    expected = [np.median(rest[p::period]) for p in range(period)]
    assert np.array_equal(model.levels, expected)
