"""CHANGE_POINTS finds level and variance shifts at their bucket, and agrees with ruptures."""

from __future__ import annotations

import math

import numpy as np
import pytest
import ruptures as rpt
from ruptures.base import BaseCost

from domain.analytics.results import ChangeKind
from infra.analytics.methods import change_points
from infra.analytics.methods.change_points import GaussianCost, pelt
from tests.unit.analytics.support import FIVE_MIN, T0, grid


def test_level_shift_found_at_its_bucket() -> None:
    rng = np.random.default_rng(1)
    values = rng.normal(10, 1, 3_000)
    values[1_234:] += 3
    result = change_points(grid(values))
    assert len(result.points) == 1
    point = result.points[0]
    assert abs(point.index - 1_234) <= 2
    assert point.time_us == T0 + point.index * FIVE_MIN
    assert point.change is ChangeKind.LEVEL
    assert point.mean_before == pytest.approx(10, abs=0.2)
    assert point.mean_after == pytest.approx(13, abs=0.2)
    assert point.audit == ()


def test_variance_shift_found_and_named() -> None:
    rng = np.random.default_rng(2)
    values = np.concatenate((rng.normal(5, 1, 1_500), rng.normal(5, 4, 1_500)))
    (point,) = change_points(grid(values)).points
    assert abs(point.index - 1_500) <= 15
    assert point.change is ChangeKind.VARIANCE
    assert point.std_after / point.std_before == pytest.approx(4, rel=0.15)


def test_missing_buckets_skipped_and_times_kept() -> None:
    rng = np.random.default_rng(3)
    values = rng.normal(0, 1, 2_000)
    values[1_000:] += 4
    values[990:1_000] = np.nan
    (point,) = change_points(grid(values)).points
    assert abs(point.index - 1_000) <= 2


def test_no_change_in_plain_noise() -> None:
    rng = np.random.default_rng(4)
    assert change_points(grid(rng.normal(0, 1, 10_000))).points == ()


def test_default_penalty_is_bic() -> None:
    rng = np.random.default_rng(5)
    result = change_points(grid(rng.normal(size=1_000)))
    assert result.penalty == pytest.approx(3 * math.log(1_000))


class _RupturesGaussian(BaseCost):  # type: ignore[misc]
    """Our cost as ruptures wants it (ruptures ignores a cost that is not a BaseCost)."""

    model = "gaussian_cumsum"
    min_size = 2

    def __init__(self) -> None:
        self.inner = GaussianCost(floor=1e-6)
        self.signal = np.zeros((0, 1))

    def fit(self, signal: np.ndarray) -> _RupturesGaussian:
        self.inner.fit(signal)
        self.signal = self.inner.signal
        return self

    def error(self, start: int, end: int) -> float:
        return self.inner.error(start, end)


def _signal(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate(
        (rng.normal(0, 1, 300), rng.normal(2, 1, 200), rng.normal(2, 3, 250), rng.normal(0, 1, 150))
    )


@pytest.mark.parametrize("seed", [6, 7, 8])
def test_pelt_equals_ruptures_on_the_same_cost(seed: int) -> None:
    x = _signal(seed)
    pen = 3 * math.log(len(x))
    for jump in (1, 2, 5):
        ours = pelt(GaussianCost(floor=1e-6).fit(x), len(x), pen, 8, jump)
        theirs = (
            rpt.Pelt(custom_cost=_RupturesGaussian(), min_size=8, jump=jump).fit(x).predict(pen=pen)
        )
        assert ours == theirs


@pytest.mark.parametrize("seed", [6, 9])
def test_pelt_is_optimal_partitioning(seed: int) -> None:
    """Every bucket a candidate: the same optimum as the O(n^2) dynamic programme."""
    x = _signal(seed)
    n, pen, min_size = len(x), 3 * math.log(len(x)), 8
    cost = GaussianCost(floor=1e-6).fit(x)
    best = np.full(n + 1, np.inf)
    best[0] = 0.0
    for end in range(min_size, n + 1):
        starts = np.arange(0, end - min_size + 1)
        best[end] = np.min(best[starts] + cost.errors(starts, end) + pen)
    bounds = pelt(cost, n, pen, min_size, 1)
    total = sum(cost.error(a, b) + pen for a, b in zip([0, *bounds[:-1]], bounds, strict=True))
    assert total == pytest.approx(best[n], rel=1e-12)
