"""Streaming windows: every aggregation against numpy, rate, late points, expiry, limits."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from domain.alerting import GroupWindows, RuleAggregation
from domain.alerting.windows import SMALL_WINDOW, _quantile
from domain.metrics.model import Aggregation

S = 1_000_000
A = RuleAggregation
HOST = {"host": "web-1"}


def filled(
    aggregation: RuleAggregation, points: list[tuple[int, float]], window_s: int = 60
) -> GroupWindows:
    windows = GroupWindows(aggregation, window_s * S, ("host",))
    for ts, value in points:
        assert windows.add(HOST, ts, value) == ("web-1",)
    return windows


RNG = random.Random(5)
POINTS = [(t * S, RNG.uniform(-50, 150)) for t in range(200)]
# evaluated at t=199 s with a 60 s window: (139 s, 199 s], the last 60 points
IN_WINDOW = np.array([v for ts, v in POINTS if 139 * S < ts <= 199 * S])

NUMPY = {
    A.AVG: np.mean,
    A.MIN: np.min,
    A.MAX: np.max,
    A.SUM: np.sum,
    A.COUNT: len,
    A.LAST: lambda a: a[-1],
    A.P50: lambda a: np.percentile(a, 50, method="linear"),
    A.P90: lambda a: np.percentile(a, 90, method="linear"),
    A.P95: lambda a: np.percentile(a, 95, method="linear"),
    A.P99: lambda a: np.percentile(a, 99, method="linear"),
}


def test_every_chart_aggregation_is_also_a_rule_aggregation_and_rate_is_added() -> None:
    assert {a.value for a in Aggregation} | {"rate"} == {a.value for a in RuleAggregation}
    assert [a.quantile for a in (A.P50, A.P90, A.P95, A.P99, A.AVG, A.RATE)] == [
        0.5,
        0.9,
        0.95,
        0.99,
        None,
        None,
    ]


@pytest.mark.parametrize("aggregation", list(NUMPY))
def test_each_aggregation_matches_numpy_on_the_same_window(aggregation: RuleAggregation) -> None:
    windows = filled(aggregation, POINTS)

    got = windows.aggregate(("web-1",), 199 * S)

    assert len(IN_WINDOW) == 60
    assert got == pytest.approx(float(NUMPY[aggregation](IN_WINDOW)), rel=1e-12)


@pytest.mark.parametrize("q", [0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0])
@pytest.mark.parametrize("n", [1, 2, 3, 7, 60, SMALL_WINDOW - 1, SMALL_WINDOW, 2000])
def test_quantiles_equal_numpy_linear_on_both_paths(n: int, q: float) -> None:
    values = [RNG.uniform(-1e3, 1e3) for _ in range(n)]
    values[len(values) // 2 :] = values[: (len(values) + 1) // 2]  # ties too

    got = _quantile(values, q)

    assert got == pytest.approx(float(np.quantile(values, q, method="linear")), rel=1e-12)


@pytest.mark.parametrize("aggregation", [a for a in A if a is not A.COUNT])
def test_an_empty_window_has_no_value(aggregation: RuleAggregation) -> None:
    windows = filled(aggregation, [(0, 1.0), (1 * S, 2.0)])

    assert windows.aggregate(("web-1",), 100 * S) is None
    assert windows.aggregate(("db-9",), 100 * S) is None


def test_count_of_an_empty_window_is_zero() -> None:
    windows = filled(A.COUNT, [(0, 1.0)])

    assert windows.aggregate(("web-1",), 100 * S) == 0.0
    assert windows.aggregate(("db-9",), 100 * S) == 0.0


def test_rate_handles_a_counter_reset_like_prometheus() -> None:
    # 0 -> 10 -> 20, restart, 5 -> 15: increase 10 + 10 + 5 + 10 = 35 over 40 s
    windows = filled(A.RATE, [(0, 0), (10 * S, 10), (20 * S, 20), (30 * S, 5), (40 * S, 15)])

    assert windows.aggregate(("web-1",), 40 * S) == pytest.approx(35 / 40)


def test_rate_is_per_series_then_summed_over_the_group() -> None:
    windows = GroupWindows(A.RATE, 60 * S, ("host",))
    for ts, a, b in [(0, 0, 100), (10 * S, 10, 100), (20 * S, 20, 160)]:
        windows.add({"host": "h", "code": "500"}, ts, a)  # 1/s
        windows.add({"host": "h", "code": "502"}, ts, b)  # 3/s

    assert windows.aggregate(("h",), 20 * S) == pytest.approx(4.0)


@pytest.mark.parametrize(
    "points",
    [[(10 * S, 5.0)], [(10 * S, 5.0), (10 * S, 6.0)]],
    ids=["one point", "no time between points"],
)
def test_rate_needs_two_points_apart_in_time(points: list[tuple[int, float]]) -> None:
    assert filled(A.RATE, points).aggregate(("web-1",), 10 * S) is None


def test_points_slightly_out_of_order_are_placed_in_time_order() -> None:
    windows = filled(A.LAST, [(10 * S, 1.0), (30 * S, 3.0), (20 * S, 2.0), (25 * S, 2.5)])

    assert windows.aggregate(("web-1",), 30 * S) == 3.0
    assert windows.aggregate(("web-1",), 27 * S) == 2.5  # last at or before the time asked


def test_rate_of_late_points_uses_time_order() -> None:
    windows = filled(A.RATE, [(0, 0.0), (20 * S, 20.0), (10 * S, 10.0)])

    assert windows.aggregate(("web-1",), 20 * S) == pytest.approx(1.0)  # not a reset


def test_a_point_older_than_the_evaluated_window_is_dropped_and_counted() -> None:
    windows = filled(A.COUNT, [(100 * S, 1.0)])
    windows.aggregate(("web-1",), 100 * S)  # the window is now (40 s, 100 s]

    assert windows.add(HOST, 40 * S, 9.0) is None
    assert windows.add(HOST, 41 * S, 9.0) == ("web-1",)
    assert windows.dropped_late == 1
    assert windows.aggregate(("web-1",), 100 * S) == 2.0


def test_the_window_slides_and_points_in_the_future_wait_their_turn() -> None:
    windows = filled(A.SUM, [(t * S, 1.0) for t in range(0, 100, 10)])  # 0, 10, ..., 90

    assert windows.aggregate(("web-1",), 50 * S) == 6.0  # (-10 s, 50 s]: 0, 10, ..., 50
    assert windows.aggregate(("web-1",), 90 * S) == 6.0  # (30, 90]: 40..90
    assert windows.aggregate(("web-1",), 95 * S) == 6.0
    assert windows.aggregate(("web-1",), 150 * S) is None
    assert windows.points(("web-1",)) == 0


def test_groups_are_independent_and_a_missing_tag_groups_as_empty() -> None:
    windows = GroupWindows(A.MAX, 60 * S, ("host", "dc"))
    windows.add({"host": "a", "dc": "x"}, 0, 1.0)
    windows.add({"host": "b", "dc": "x"}, 0, 5.0)
    windows.add({"host": "a"}, 0, 7.0)

    assert sorted(windows.groups()) == [("a", ""), ("a", "x"), ("b", "x")]
    assert windows.aggregate(("a", "x"), 0) == 1.0
    assert windows.aggregate(("a", ""), 0) == 7.0

    windows.discard(("a", "x"))
    assert sorted(windows.groups()) == [("a", ""), ("b", "x")]


def test_a_buffer_keeps_at_most_max_points_dropping_the_oldest() -> None:
    windows = GroupWindows(A.COUNT, 3600 * S, (), max_points=100)
    for t in range(250):
        windows.add({}, t * S, float(t))

    assert windows.aggregate((), 250 * S) == 100.0
    assert windows.add({}, 100 * S, 0.0) is None  # older than what was dropped: late


@pytest.mark.parametrize("aggregation", [A.AVG, A.P90, A.LAST, A.COUNT, A.RATE])
def test_streaming_agrees_with_recomputing_from_scratch(aggregation: RuleAggregation) -> None:
    """A long jittered stream, evaluated as it goes: the head, compaction and bisect
    bookkeeping must give what filtering every accepted point would."""
    rng = random.Random(11)
    windows = GroupWindows(aggregation, 30 * S, ())
    accepted: list[tuple[int, float]] = []
    value = 0.0
    for i in range(800):
        ts = i * S // 2 + rng.randint(-3 * S, 0)  # up to 3 s late
        value = value + rng.uniform(0, 5) if rng.random() > 0.01 else 0.0
        if windows.add({}, ts, value) is not None:
            accepted.append((ts, value))
        now = i * S // 2
        accepted = [p for p in accepted if p[0] > now - 40 * S]  # keeps the check linear
        expected = _naive(aggregation, accepted, now - 30 * S, now)
        got = windows.aggregate((), now)
        assert (got is None) == (expected is None), i
        if got is not None:
            assert got == pytest.approx(expected, rel=1e-9), i


def _naive(
    aggregation: RuleAggregation, points: list[tuple[int, float]], lo: int, hi: int
) -> float | None:
    live = sorted((p for p in points if lo < p[0] <= hi), key=lambda p: p[0])
    values = [v for _, v in live]
    if aggregation is A.COUNT:
        return float(len(values))
    if aggregation is A.RATE:
        if len(live) < 2 or live[-1][0] == live[0][0]:
            return None
        increase = sum(b - a if b >= a else b for a, b in itertools.pairwise(values))
        return increase * S / (live[-1][0] - live[0][0])
    if not values:
        return None
    if aggregation is A.LAST:
        return values[-1]
    if aggregation is A.AVG:
        return float(np.mean(values))
    return float(np.percentile(values, 90))
