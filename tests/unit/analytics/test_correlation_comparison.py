"""CORRELATION ranks the changed series first; COMPARISON's figures are numpy's."""

from __future__ import annotations

import numpy as np
import pytest

from domain.analytics.series import HOUR_US, MINUTE_US, Grid
from infra.analytics.methods import comparison, correlation
from tests.unit.analytics.support import T0


def _series(seed: int, shift: float, scale: float = 1.0, **tags: str) -> Grid:
    rng = np.random.default_rng(seed)
    values = rng.normal(10, 1, 600)
    values[500:] = 10 + (values[500:] - 10) * scale + shift  # the last 100 minutes: the window
    return Grid(T0, MINUTE_US, values, tags)


def test_ks_ranks_the_changed_series_first() -> None:
    series = [
        _series(1, 0.0, name="quiet"),
        _series(2, 3.0, name="shifted"),
        _series(3, 0.0, 2.5, name="noisier"),
        _series(4, 0.3, name="nudged"),
    ]
    start = T0 + 500 * MINUTE_US
    result = correlation(series, window_start_us=start, window_end_us=start + 100 * MINUTE_US)
    names = [r.tags["name"] for r in result.ranked]
    assert names[:2] == ["shifted", "noisier"]
    first = result.ranked[0]
    assert first.statistic > 0.8 and first.p_value < 1e-6
    assert result.ranked[-1].statistic < 0.25
    assert first.window_points == 100 and first.baseline_points == 400
    assert result.baseline_start_us == start - 400 * MINUTE_US
    assert result.baseline_end_us == start


def test_series_without_enough_points_are_left_out() -> None:
    short = Grid(T0 + 560 * MINUTE_US, MINUTE_US, np.ones(50), {"name": "new"})
    start = T0 + 500 * MINUTE_US
    result = correlation(
        [short, _series(1, 2.0, name="old")],
        window_start_us=start,
        window_end_us=start + 6_000_000_000,
    )
    assert [r.tags["name"] for r in result.ranked] == ["old"]
    with pytest.raises(ValueError):
        correlation([short], window_start_us=start, window_end_us=start)


def test_comparison_equals_numpy_and_ranks_movers() -> None:
    rng = np.random.default_rng(5)
    week = 7 * 24
    now, before = [], []
    for host, change in (("a", 0.0), ("b", 5.0), ("c", -2.0)):
        base = rng.normal(20, 2, week)
        cur = rng.normal(20 + change, 2, week)
        cur[::17] = np.nan  # gaps are ignored
        before.append(Grid(T0, HOUR_US, base, {"host": host, "dc": "x"}))
        now.append(Grid(T0 + week * HOUR_US, HOUR_US, cur, {"host": host, "dc": "x"}))
    result = comparison(now, before, group_by=["host"], top=2)
    values = np.concatenate([g.values for g in now])
    values = values[~np.isnan(values)]
    assert result.current.count == values.size
    assert result.current.mean == pytest.approx(values.mean(), rel=1e-12)
    assert result.current.std == pytest.approx(values.std(), rel=1e-12)
    assert result.current.min == values.min() and result.current.max == values.max()
    assert result.current.sum == pytest.approx(values.sum(), rel=1e-12)
    assert result.current.quantiles == pytest.approx(
        tuple(np.quantile(values, result.quantile_levels)), rel=1e-12
    )
    assert result.mean_delta == pytest.approx(result.current.mean - result.baseline.mean)
    assert [m.tags for m in result.movers] == [{"host": "b"}, {"host": "c"}]
    b = result.movers[0]
    assert b.current_mean == pytest.approx(np.nanmean(now[1].values), rel=1e-12)
    assert b.delta == pytest.approx(b.current_mean - b.baseline_mean)
    assert b.relative == pytest.approx(b.delta / b.baseline_mean)
