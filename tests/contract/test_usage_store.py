"""UsageStore contract: counted minutes add up across instances, group by any tags of the
catalogue, the read log keeps the last read, rows per tier, forgetting; on every store."""

from __future__ import annotations

import time

from domain.metrics.ports import MetricStore
from domain.usage.meter import MinuteCounts
from domain.usage.model import CounterRow, NewSeriesRow, SeriesUsageRow, StoredRows
from domain.usage.ports import UsageStore
from tests.contract.data import MINUTE, NOW_US, Point, point_batch, sid_of

WEB = {"team": "web", "service": "api", "host": "a"}
WEB_B = {"team": "web", "service": "api", "host": "b"}
DB = {"team": "data", "service": "pg", "host": "c"}
NO_TEAM = {"host": "d"}


async def _catalogue(metrics: MetricStore) -> dict[str, int]:
    points = [Point("cpu", tags, NOW_US, 1.0) for tags in (WEB, WEB_B, DB, NO_TEAM)]
    points.append(Point("mem", WEB, NOW_US, 2.0))
    await metrics.append(point_batch("alpha", points))
    await metrics.append(point_batch("beta", [Point("cpu", WEB, NOW_US, 1.0)]))
    return {
        "web_a": sid_of("alpha", "cpu", WEB),
        "web_b": sid_of("alpha", "cpu", WEB_B),
        "db": sid_of("alpha", "cpu", DB),
        "none": sid_of("alpha", "cpu", NO_TEAM),
        "mem": sid_of("alpha", "mem", WEB),
    }


async def test_minutes_add_up_and_group_by_any_tags(
    metrics: MetricStore, usage: UsageStore
) -> None:
    ids = await _catalogue(metrics)
    m0, m1 = NOW_US, NOW_US + MINUTE
    one = MinuteCounts(m0, points={"alpha": {ids["web_a"]: 10, ids["db"]: 5, ids["none"]: 1}})
    # A second instance counted the same minute: its rows add to the first's.
    two = MinuteCounts(m0, points={"alpha": {ids["web_a"]: 2, ids["web_b"]: 3}})
    three = MinuteCounts(m1, points={"alpha": {ids["mem"]: 7}, "beta": {1: 4}})
    await usage.record([one, two])
    await usage.record([three])

    whole = await usage.series_usage("alpha", m0, m0 + 2 * MINUTE, 2 * MINUTE, ())
    assert whole == [SeriesUsageRow(m0, (), 28, 5)]
    by_minute = await usage.series_usage("alpha", m0, m0 + 2 * MINUTE, MINUTE, ())
    assert by_minute == [SeriesUsageRow(m0, (), 21, 4), SeriesUsageRow(m1, (), 7, 1)]
    by_team = await usage.series_usage("alpha", m0, m0 + 2 * MINUTE, 2 * MINUTE, ["team"])
    assert by_team == [
        SeriesUsageRow(m0, ("",), 1, 1),
        SeriesUsageRow(m0, ("data",), 5, 1),
        SeriesUsageRow(m0, ("web",), 22, 3),
    ]
    by_two = await usage.series_usage("alpha", m0, m1, MINUTE, ["service", "host"])
    assert by_two == [
        SeriesUsageRow(m0, ("", "d"), 1, 1),
        SeriesUsageRow(m0, ("api", "a"), 12, 1),
        SeriesUsageRow(m0, ("api", "b"), 3, 1),
        SeriesUsageRow(m0, ("pg", "c"), 5, 1),
    ]
    assert await usage.series_usage("alpha", m1 + MINUTE, m1 + 2 * MINUTE, MINUTE, ()) == []
    assert await usage.usage_projects(m0, m0 + 2 * MINUTE) == ["alpha", "beta"]
    assert await usage.usage_projects(m1, m1 + MINUTE) == ["alpha", "beta"]
    assert await usage.usage_projects(m0, m1) == ["alpha"]


async def test_new_series_come_from_the_catalogue(metrics: MetricStore, usage: UsageStore) -> None:
    before = time.time_ns() // 1000 // (2 * MINUTE) * (2 * MINUTE)  # a bucket's start
    await _catalogue(metrics)
    after = before + 2 * MINUTE
    rows = await usage.new_series("alpha", before, after, 2 * MINUTE, ["team"])
    assert rows == [
        NewSeriesRow(before, ("",), 1),
        NewSeriesRow(before, ("data",), 1),
        NewSeriesRow(before, ("web",), 3),
    ]
    assert await usage.new_series("alpha", after, after + MINUTE, MINUTE, ()) == []
    catalogue = sorted(
        (name, sorted(tags.items())) for name, tags, _ in await usage.catalogue("alpha", "cpu")
    )
    assert catalogue == sorted(("cpu", sorted(t.items())) for t in (WEB, WEB_B, DB, NO_TEAM))
    assert all(before <= first < after for _, _, first in await usage.catalogue("alpha"))
    assert await usage.projects() == ["alpha", "beta"]


async def test_counters_sum_and_gauges_keep_the_last(usage: UsageStore) -> None:
    m0 = NOW_US
    await usage.record(
        [
            MinuteCounts(
                m0, counters={("alpha", "queries"): 3.0, ("alpha", "query_cpu_seconds"): 0.5}
            ),
            MinuteCounts(m0 + MINUTE, counters={("alpha", "queries"): 2.0}),
        ]
    )
    await usage.record([MinuteCounts(m0, counters={("alpha", "queries"): 1.0})])
    await usage.set_gauges(m0, {("alpha", "bytes.raw"): 100.0})
    await usage.set_gauges(m0, {("alpha", "bytes.raw"): 160.0})  # sampled again: replaced
    await usage.set_gauges(m0 + MINUTE, {("alpha", "bytes.raw"): 200.0})
    rows = await usage.counters("alpha", m0, m0 + 2 * MINUTE, 2 * MINUTE)
    assert rows == [
        CounterRow(m0, "bytes.raw", 360.0, 200.0),
        CounterRow(m0, "queries", 6.0, 2.0),
        CounterRow(m0, "query_cpu_seconds", 0.5, 0.5),
    ]
    assert await usage.counters("beta", m0, m0 + 2 * MINUTE, MINUTE) == []
    assert await usage.forget_usage(m0 + MINUTE) == 4
    assert await usage.counters("alpha", m0, m0 + 2 * MINUTE, MINUTE) == [
        CounterRow(m0 + MINUTE, "bytes.raw", 200.0, 200.0),
        CounterRow(m0 + MINUTE, "queries", 2.0, 2.0),
    ]


async def test_the_read_log_keeps_the_last_read(usage: UsageStore) -> None:
    await usage.record([MinuteCounts(NOW_US, reads={("alpha", "cpu"): NOW_US})])
    await usage.record(
        [
            MinuteCounts(NOW_US + MINUTE, reads={("alpha", "cpu"): NOW_US + MINUTE}),
            MinuteCounts(NOW_US - MINUTE, reads={("alpha", "mem"): NOW_US - MINUTE}),
        ]
    )
    await usage.record([MinuteCounts(NOW_US - MINUTE, reads={("alpha", "cpu"): NOW_US - MINUTE})])
    assert await usage.last_reads("alpha") == {"cpu": NOW_US + MINUTE, "mem": NOW_US - MINUTE}
    assert await usage.last_reads("beta") == {}


async def test_rows_per_metric_and_tier(metrics: MetricStore, usage: UsageStore) -> None:
    await metrics.append(
        point_batch(
            "alpha",
            [Point("cpu", WEB, NOW_US + i * MINUTE, float(i)) for i in range(3)]
            + [Point("mem", WEB, NOW_US, 1.0)],
        )
    )
    await metrics.append(point_batch("beta", [Point("cpu", WEB, NOW_US, 1.0)]))
    rows = await usage.stored_rows("alpha")
    assert sorted((r for r in rows if r.tier == "raw"), key=lambda r: r.metric) == [
        StoredRows("cpu", "raw", 3, "alpha"),
        StoredRows("mem", "raw", 1, "alpha"),
    ]
    everyone = [r for r in await usage.stored_rows(None) if r.tier == "raw"]
    assert sorted(everyone, key=lambda r: (r.project, r.metric)) == [
        StoredRows("cpu", "raw", 3, "alpha"),
        StoredRows("mem", "raw", 1, "alpha"),
        StoredRows("cpu", "raw", 1, "beta"),
    ]


async def test_the_last_minute_written_only_moves_forward(usage: UsageStore) -> None:
    assert await usage.series_written() == 0
    await usage.mark_series_written(NOW_US)
    await usage.mark_series_written(NOW_US - MINUTE)  # a stalled holder: ignored
    assert await usage.series_written() == NOW_US
    await usage.mark_series_written(NOW_US + MINUTE)
    assert await usage.series_written() == NOW_US + MINUTE


async def test_a_minute_of_many_series_is_kept_whole(usage: UsageStore) -> None:
    many = {series: 1 + series % 3 for series in range(60_001)}  # MongoDB: two documents
    await usage.record([MinuteCounts(NOW_US, points={"alpha": many})])
    (row,) = await usage.series_usage("alpha", NOW_US, NOW_US + MINUTE, MINUTE, ())
    assert (row.points, row.active_series) == (sum(many.values()), 60_001)
