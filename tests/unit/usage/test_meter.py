"""The usage meter: per-series counts by minute of arrival, taken by the runner."""

from __future__ import annotations

from typing import Any

from domain.usage.meter import MinuteCounts, UsageMeter
from domain.usage.model import MINUTE_US, USAGE_SOURCE
from tests.unit.fakes import FakeClock

START = 1_800_000_000 * 1_000_000 // MINUTE_US * MINUTE_US


def series(*ids: int, source: str = "") -> list[dict[str, Any]]:
    return [{"id": i, "name": "cpu", "tags": {}, "source": source} for i in ids]


def test_points_are_counted_per_series_whatever_the_batch_shape() -> None:
    clock = FakeClock(START)
    meter = UsageMeter(clock)
    meter.count_points("demo", series(1), [0, 0, 0])  # one series
    meter.count_points("demo", series(1, 2), [0, 1])  # one point each
    meter.count_points("demo", series(2, 3), [0, 1, 1, 0, 1])  # mixed
    meter.count_points("other", series(1), [0])
    meter.count_points("demo", series(9, source=USAGE_SOURCE), [0, 0])  # usage: not usage
    assert meter.take() == []  # the minute is not over
    clock.advance(60)
    (minute,) = meter.take()
    assert minute.minute_us == START
    assert minute.points == {"demo": {1: 4, 2: 3, 3: 3}, "other": {1: 1}}
    assert meter.take() == []


def test_figures_and_reads_go_with_their_minute() -> None:
    clock = FakeClock(START)
    meter = UsageMeter(clock)
    meter.count_query("demo", 0.25)
    meter.count_query("demo", 0.5)
    meter.add("demo", "notifications_sent")
    meter.read("demo", "cpu")
    clock.advance(61)
    meter.read("demo", "cpu")
    meter.add("demo", "reports_rendered", 2)
    first, second = meter.take(everything=True)
    assert first.counters == {
        ("demo", "queries"): 2.0,
        ("demo", "query_cpu_seconds"): 0.75,
        ("demo", "notifications_sent"): 1.0,
    }
    assert first.reads == {("demo", "cpu"): START}
    assert second == MinuteCounts(
        START + MINUTE_US,
        counters={("demo", "reports_rendered"): 2.0},
        reads={("demo", "cpu"): START + MINUTE_US},
    )
    assert meter.pending_minutes == 0


def test_minutes_given_back_are_merged_with_what_came_since() -> None:
    clock = FakeClock(START)
    meter = UsageMeter(clock)
    meter.count_points("demo", series(1), [0])
    clock.advance(60)
    taken = meter.take()
    meter.give_back(taken)  # the store failed
    meter.give_back([MinuteCounts(START, points={"demo": {1: 2, 5: 1}})])
    (minute,) = meter.take()
    assert minute.points == {"demo": {1: 3, 5: 1}}


def test_a_meter_turned_off_holds_nothing() -> None:
    meter = UsageMeter(FakeClock(START), enabled=False)
    meter.count_points("demo", series(1), [0])
    meter.count_query("demo", 1.0)
    meter.add("demo", "reports_rendered")
    meter.read("demo", "cpu")
    assert meter.pending_minutes == 0
    assert meter.take(everything=True) == []
