"""Collectors' clock offsets: per (project, source), the newest point of a batch against
the time it arrived, the one closest to zero kept over an interval."""

from __future__ import annotations

from domain.compliance.runtime.clocks import ClockOffsets
from domain.metrics.events import MetricCollectedEvent
from tests.unit.fakes import FakeClock

NOW = 1_800_000_000_000_000
S = 1_000_000


def event(sources: list[str], points: list[tuple[int, int]]) -> MetricCollectedEvent:
    """`points`: (series position, timestamp)."""
    return MetricCollectedEvent(
        project="p",
        series=[{"id": n, "name": "m", "source": s} for n, s in enumerate(sources)],
        series_index=[i for i, _ in points],
        timestamps_us=[ts for _, ts in points],
        values=[1.0] * len(points),
    )


def test_each_sources_newest_point_counts() -> None:
    offsets = ClockOffsets(FakeClock(NOW))
    offsets.observe(
        event(
            ["a", "b", "a", "c"],
            [(0, NOW - 50 * S), (1, NOW + 7 * S), (2, NOW - 3 * S), (1, NOW - 9 * S), (3, NOW)],
        )
    )
    assert offsets.drain() == {("p", "a"): -3.0, ("p", "b"): 7.0, ("p", "c"): 0.0}
    assert offsets.drain() == {}


def test_one_source_and_the_offset_closest_to_zero_of_an_interval() -> None:
    offsets = ClockOffsets(FakeClock(NOW))
    offsets.observe(event(["a", "a"], [(0, NOW - 600 * S), (1, NOW - 20 * S)]))
    offsets.observe(event(["a"], [(0, NOW - 2 * S)]))
    offsets.observe(event(["a"], [(0, NOW - 900 * S)]))  # a backfill does not count against it
    offsets.observe(event(["a"], []))
    assert offsets.drain() == {("p", "a"): -2.0}
