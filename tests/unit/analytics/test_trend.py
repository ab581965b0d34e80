"""TREND agrees with pymannkendall and recovers a known slope per day."""

from __future__ import annotations

import numpy as np
import pymannkendall as mk
import pytest

from domain.analytics.results import TrendDirection
from domain.analytics.series import DAY_US, HOUR_US
from infra.analytics.methods import trend
from infra.analytics.methods._slopes import slope_order_statistics
from tests.unit.analytics.support import grid


def _ar(n: int, seed: int, phi: float = 0.6) -> np.ndarray:
    rng = np.random.default_rng(seed)
    e = np.zeros(n)
    for i in range(1, n):
        e[i] = phi * e[i - 1] + rng.normal()
    return e


@pytest.mark.parametrize(
    ("n", "seed", "ties"),
    [(150, 1, False), (600, 2, True), (1_500, 3, False), (2_200, 4, False)],
)
def test_equal_to_pymannkendall_hamed_rao(n: int, seed: int, ties: bool) -> None:
    """2,200 points make 2.4M slopes: the selection path, not the brute-force one."""
    x = _ar(n, seed) + 0.004 * np.arange(n)
    if ties:
        x = np.round(x)
    got = trend(grid(x, step_us=DAY_US))  # one bucket a day: slopes per bucket = per day
    want = mk.hamed_rao_modification_test(x)
    sens = mk.sens_slope(x)
    assert got.s == want.s
    assert got.tau == pytest.approx(want.Tau, rel=1e-9, abs=1e-12)
    assert got.var_s == pytest.approx(want.var_s, rel=1e-9)
    assert got.z == pytest.approx(want.z, rel=1e-9, abs=1e-12)
    assert got.p_value == pytest.approx(want.p, rel=1e-9, abs=1e-12)
    assert got.slope_per_day == pytest.approx(sens.slope, rel=1e-9, abs=1e-12)
    assert got.slope_per_day == pytest.approx(want.slope, rel=1e-9, abs=1e-12)
    assert got.intercept == pytest.approx(sens.intercept, rel=1e-9, abs=1e-12)
    assert got.direction.value == want.trend
    assert got.significant == bool(want.h)


def test_linear_trend_slope_per_day_with_interval() -> None:
    rng = np.random.default_rng(7)
    n = 24 * 60  # 60 days of hourly buckets
    values = 10 + 0.5 / 24 * np.arange(n) + rng.normal(0, 1, n)
    result = trend(grid(values, step_us=HOUR_US))
    assert result.direction is TrendDirection.INCREASING and result.significant
    assert result.slope_low_per_day < result.slope_per_day < result.slope_high_per_day
    assert result.slope_per_day == pytest.approx(0.5, rel=0.02)
    assert result.slope_high_per_day - result.slope_low_per_day < 0.02


def test_decreasing_and_flat() -> None:
    rng = np.random.default_rng(8)
    down = trend(grid(100 - 0.01 * np.arange(3_000) + rng.normal(0, 1, 3_000)))
    assert down.direction is TrendDirection.DECREASING
    flat = trend(grid(rng.normal(0, 1, 3_000)))
    assert flat.direction is TrendDirection.NO_TREND and not flat.significant
    constant = trend(grid(np.full(50, 3.0)))
    assert constant.direction is TrendDirection.NO_TREND and constant.slope_per_day == 0.0


def test_missing_buckets_keep_their_time() -> None:
    values = np.arange(200, dtype=float)
    values[50:150] = np.nan  # a long gap must not make the slope twice as steep
    result = trend(grid(values, step_us=DAY_US))
    assert result.slope_per_day == pytest.approx(1.0)
    assert result.n == 100


@pytest.mark.parametrize("kind", ["float", "int"])
def test_slope_selection_is_exact(kind: str) -> None:
    rng = np.random.default_rng(11)
    n = 2_500  # 3.1M pairs: randomised selection
    x = rng.normal(size=n) if kind == "float" else rng.integers(0, 4, n).astype(float)
    t = np.arange(n, dtype=float)
    i, j = np.triu_indices(n, k=1)
    every = np.sort((x[j] - x[i]) / (t[j] - t[i]))
    ranks = [0, len(every) // 3, (len(every) - 1) // 2, len(every) // 2, len(every) - 1]
    assert slope_order_statistics(t, x, ranks) == [float(every[r]) for r in ranks]
