"""One point per (series, timestamp): storing one again replaces it, the last write wins."""

from __future__ import annotations

import asyncio
from pathlib import Path

from domain.metrics.model import Aggregation
from domain.metrics.ports import MetricStore
from domain.metrics.queries import GetMetricSeriesQuery, GetMetricsListQuery
from tests.contract.conftest import StoreFactory
from tests.contract.data import MINUTE, NOW_US, SECOND, Point, point_batch, sid_of


def cpu(host: str, ts: int, value: float) -> Point:
    return Point("cpu", {"host": host}, ts, value)


async def listed(metrics: MetricStore, project: str = "alpha") -> list[tuple[int, str, float]]:
    """Every stored point of the project as (timestamp, host, value), newest first."""
    page = await metrics.list_points(GetMetricsListQuery(project, first=10_000))
    assert not page.has_next_page
    return [(m.timestamp_us, m.tags.get("host", ""), m.value) for m in page.items]


async def chart(metrics: MetricStore, aggregation: Aggregation) -> list[float | None]:
    result = await metrics.aggregate(
        GetMetricSeriesQuery(
            "alpha", "cpu", NOW_US, NOW_US + MINUTE, aggregation, step_us=MINUTE, group_by=()
        )
    )
    return result.series[0].values if result.series else []


async def test_storing_a_point_again_keeps_one_the_last_written(metrics: MetricStore) -> None:
    await metrics.append(point_batch("alpha", [cpu("a", NOW_US, 1.0), cpu("a", NOW_US + 1, 2.0)]))
    await metrics.append(point_batch("alpha", [cpu("a", NOW_US, 10.0)]))

    assert await listed(metrics) == [(NOW_US + 1, "a", 2.0), (NOW_US, "a", 10.0)]
    point = await metrics.get_point("alpha", sid_of("alpha", "cpu", {"host": "a"}), NOW_US)
    assert point is not None and point.value == 10.0
    assert await chart(metrics, Aggregation.COUNT) == [2.0]
    assert await chart(metrics, Aggregation.SUM) == [12.0]
    assert await chart(metrics, Aggregation.MIN) == [2.0]
    assert await chart(metrics, Aggregation.P50) == [6.0]


async def test_a_batch_holding_a_point_twice_keeps_its_last(metrics: MetricStore) -> None:
    points = [cpu("a", NOW_US, 1.0), cpu("b", NOW_US, 5.0), cpu("a", NOW_US, 3.0)]

    result = await metrics.append(point_batch("alpha", points))

    assert (result.accepted, result.replayed) == (3, False)  # what was sent, as before
    assert sorted(await listed(metrics)) == [(NOW_US, "a", 3.0), (NOW_US, "b", 5.0)]
    assert await chart(metrics, Aggregation.SUM) == [8.0]


async def test_a_batch_sent_again_without_a_key_is_stored_once(metrics: MetricStore) -> None:
    batch = point_batch("alpha", [cpu(h, NOW_US + s * SECOND, s) for s in range(20) for h in "ab"])

    for _ in range(3):
        assert (await metrics.append(batch)).replayed is False

    assert len(await listed(metrics)) == 40
    assert await chart(metrics, Aggregation.SUM) == [2 * sum(range(20))]


async def test_concurrent_copies_of_a_batch_store_one_point_each(metrics: MetricStore) -> None:
    batch = point_batch("alpha", [cpu("a", NOW_US + i, float(i)) for i in range(50)])

    await asyncio.gather(*(metrics.append(batch) for _ in range(8)))

    assert len(await listed(metrics)) == 50
    assert await chart(metrics, Aggregation.COUNT) == [50.0]


async def test_an_overlapping_backfill_replaces_only_what_it_names(metrics: MetricStore) -> None:
    first = [cpu("a", NOW_US + s * SECOND, 1.0) for s in range(10)]
    await metrics.append(point_batch("alpha", first))
    later = [cpu("a", NOW_US + s * SECOND, 1.0) for s in range(10, 20)]
    await metrics.append(point_batch("alpha", later))

    backfill = [cpu("a", NOW_US + s * SECOND, 2.0) for s in range(5, 15)]
    await metrics.append(point_batch("alpha", backfill))

    values = {ts: v for ts, _, v in await listed(metrics)}
    assert len(values) == 20
    assert [values[NOW_US + s * SECOND] for s in range(20)] == [1.0] * 5 + [2.0] * 10 + [1.0] * 5
    assert await chart(metrics, Aggregation.SUM) == [30.0]


async def test_other_series_and_projects_at_the_same_time_are_kept(metrics: MetricStore) -> None:
    await metrics.append(point_batch("alpha", [cpu("a", NOW_US, 1.0), cpu("b", NOW_US, 2.0)]))
    await metrics.append(point_batch("beta", [cpu("a", NOW_US, 3.0)]))

    await metrics.append(point_batch("alpha", [cpu("a", NOW_US, 4.0)]))

    assert sorted(await listed(metrics)) == [(NOW_US, "a", 4.0), (NOW_US, "b", 2.0)]
    assert await listed(metrics, "beta") == [(NOW_US, "a", 3.0)]


async def test_a_rewrite_after_a_restart_still_replaces(
    store_factory: StoreFactory, tmp_path: Path
) -> None:
    points = [cpu("a", NOW_US + s * SECOND, 1.0) for s in range(10)]
    db = await store_factory(tmp_path)
    try:
        await db.metrics.append(point_batch("alpha", points))
    finally:
        await db.close()

    db = await store_factory(tmp_path)
    try:
        # An earlier point first (below everything stored), then the stored range again.
        await db.metrics.append(point_batch("alpha", [cpu("a", NOW_US - SECOND, 0.5)]))
        await db.metrics.append(point_batch("alpha", [cpu("a", p.ts, 3.0) for p in points]))
        stored = await listed(db.metrics)
    finally:
        await db.close()

    assert len(stored) == 11
    assert {v for ts, _, v in stored if ts >= NOW_US} == {3.0}
