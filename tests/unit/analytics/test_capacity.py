"""CAPACITY: a nightly spike is not "full tomorrow" when the trend says months."""

from __future__ import annotations

import numpy as np

from domain.analytics.results import CapacityStatus
from domain.analytics.series import DAY_US
from infra.analytics.methods import capacity
from tests.unit.analytics.support import grid

DAYS = 30


def _usage(growth_per_day: float, seed: int) -> np.ndarray:
    """Disk usage in %: 40 + growth, a backup spike of +30 around 02:30 every night."""
    rng = np.random.default_rng(seed)
    n = DAYS * 288
    phase = (np.arange(n) % 288) / 288
    spike = 30 * np.exp(-0.5 * ((phase - 0.1) / 0.02) ** 2)
    return np.asarray(40 + growth_per_day * np.arange(n) / 288 + spike + rng.normal(0, 1.5, n))


def _days(g_end: int, at: int | None) -> float | None:
    return None if at is None else (at - g_end) / DAY_US


def test_nightly_spike_is_not_full_within_a_day() -> None:
    """Peaks at ~76% grow 0.2%/day: 100% is ~4 months away."""
    g = grid(_usage(0.2, seed=1))
    result = capacity(g, limit=100.0, horizon=14 * 288)
    assert result.status is CapacityStatus.NOT_WITHIN_HORIZON
    assert result.p05_us is None and result.p50_us is None and result.p95_us is None
    assert result.horizon_end_us == g.end_us + 14 * DAY_US
    months = _days(g.end_us, result.trend_crossing_us)
    assert months is not None and 60 < months < 250


def test_history_ending_on_the_spike_does_not_change_the_answer() -> None:
    """History ends on the spike's rising edge: a line through the last half hour (what
    Prometheus' predict_linear does) says full within hours; the answer stays the same."""
    values = _usage(0.2, seed=2)[: (DAYS - 1) * 288 + 27]
    slope = np.polyfit(np.arange(6), values[-6:], 1)[0]  # % per 5 minutes
    naive_days = (100 - values[-1]) / slope / 288
    assert 0 < naive_days < 1
    result = capacity(grid(values), limit=100.0, horizon=7 * 288)
    assert result.status is CapacityStatus.NOT_WITHIN_HORIZON
    assert result.p05_us is None


def test_fast_growth_crosses_with_ordered_times() -> None:
    g = grid(_usage(1.5, seed=3))  # peaks at ~115% of 130: about ten days left
    result = capacity(g, limit=130.0, horizon=14 * 288)
    assert result.status is CapacityStatus.CROSSING
    p05, p50, p95 = (_days(g.end_us, t) for t in (result.p05_us, result.p50_us, result.p95_us))
    assert p05 is not None and p50 is not None
    assert p05 <= p50 <= (p95 if p95 is not None else 14)
    assert 6 < p50 < 14


def test_limit_series_and_already_crossed() -> None:
    g = grid(_usage(1.5, seed=4))
    size = grid(np.full(len(g), 500.0), volume="data")
    far = capacity(g, limit=size, horizon=288)
    assert far.limit is None and far.limit_tags == {"volume": "data"}
    assert far.status is CapacityStatus.NOT_WITHIN_HORIZON
    over = capacity(g, limit=50.0, horizon=288)
    assert over.status is CapacityStatus.ALREADY_CROSSED
