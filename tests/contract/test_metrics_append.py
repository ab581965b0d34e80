"""Appends: read back by id, tenancy, idempotency keys and all-or-nothing batches."""

from __future__ import annotations

import asyncio

import pytest

from domain.metrics.ingest import PointBatch
from domain.metrics.model import MetricType, decode_point_id
from domain.metrics.ports import AppendResult, MetricStore
from domain.metrics.queries import GetMetricsListQuery
from tests.contract.data import NOW_US, SECOND, Point, point_batch, sid_of


def cpu(host: str, ts: int, value: float) -> Point:
    return Point("cpu.usage", {"host": host, "dc": "eu-1"}, ts, value)


async def count_points(metrics: MetricStore, project: str) -> int:
    page = await metrics.list_points(GetMetricsListQuery(project, first=10_000))
    return len(page.items)


async def test_append_then_read_back_every_point_by_id(metrics: MetricStore) -> None:
    points = [
        cpu("web-1", NOW_US, 0.25),
        cpu("web-2", NOW_US, 0.5),
        cpu("web-1", NOW_US + SECOND, 0.75),
        Point("http.requests", {}, NOW_US + 1, 12.0, MetricType.COUNTER, "traffic", "collector-a"),
    ]
    batch = point_batch("alpha", points)

    result = await metrics.append(batch)

    assert (result.accepted, result.replayed) == (4, False)
    for point_id, point in zip(batch.point_ids(), points, strict=True):
        decoded = decode_point_id(point_id)
        assert decoded is not None
        metric = await metrics.get_point("alpha", *decoded)
        assert metric is not None
        assert metric.id == point_id
        assert (metric.project, metric.name, metric.value) == ("alpha", point.name, point.value)
        assert (metric.timestamp_us, dict(metric.tags)) == (point.ts, point.tags)
        assert (metric.type, metric.category, metric.source) == (
            point.type,
            point.category,
            point.source,
        )


async def test_a_foreign_project_id_answers_as_a_missing_one(metrics: MetricStore) -> None:
    await metrics.append(point_batch("alpha", [cpu("web-1", NOW_US, 1.0)]))
    sid = sid_of("alpha", "cpu.usage", {"host": "web-1", "dc": "eu-1"})

    assert await metrics.get_point("alpha", sid, NOW_US) is not None
    assert await metrics.get_point("beta", sid, NOW_US) is None
    assert await metrics.get_point("alpha", sid, NOW_US + 1) is None
    assert await metrics.get_point("alpha", sid + 1, NOW_US) is None


async def test_a_replayed_key_stores_nothing_and_answers_the_first_count(
    metrics: MetricStore,
) -> None:
    first = point_batch("alpha", [cpu("web-1", NOW_US + i, i) for i in range(3)])
    second = point_batch("alpha", [cpu("web-9", NOW_US + i, i) for i in range(5)])

    assert await metrics.append(first, idempotency_key="k-1") == AppendResult(3, False)
    replay = await metrics.append(second, idempotency_key="k-1")

    assert (replay.accepted, replay.replayed) == (3, True)
    assert await count_points(metrics, "alpha") == 3
    assert await metrics.tag_values("alpha", "host") == ["web-1"]


async def test_idempotency_keys_belong_to_their_project(metrics: MetricStore) -> None:
    await metrics.append(point_batch("alpha", [cpu("a", NOW_US, 1.0)]), idempotency_key="k")

    result = await metrics.append(
        point_batch("beta", [cpu("b", NOW_US, 1.0), cpu("b", NOW_US + 1, 2.0)]),
        idempotency_key="k",
    )

    assert (result.accepted, result.replayed) == (2, False)
    assert await count_points(metrics, "beta") == 2


async def test_concurrent_appends_with_one_key_store_the_batch_once(metrics: MetricStore) -> None:
    batch = point_batch("alpha", [cpu("web-1", NOW_US + i, i) for i in range(50)])

    results = await asyncio.gather(
        *(metrics.append(batch, idempotency_key="same") for _ in range(8))
    )

    assert sorted(r.replayed for r in results) == [False] + [True] * 7
    assert {r.accepted for r in results} == {50}
    assert await count_points(metrics, "alpha") == 50


def _dangling_series_index(batch: PointBatch) -> None:
    batch.series_index[-1] = len(batch.series)


def _timestamp_no_store_holds(batch: PointBatch) -> None:
    batch.timestamps_us[-1] = -(2**63)


@pytest.mark.parametrize("corrupt", [_dangling_series_index, _timestamp_no_store_holds])
async def test_a_failed_append_stores_nothing(metrics: MetricStore, corrupt: object) -> None:
    good = [cpu("web-1", NOW_US, 1.0), Point("disk.free", {"host": "db-1"}, NOW_US, 2.0)]
    bad = point_batch("alpha", [*good, Point("mem.used", {"zone": "z"}, NOW_US, 3.0)])
    assert callable(corrupt)
    corrupt(bad)

    with pytest.raises(Exception):  # noqa: B017 (each adapter raises its own error type)
        await metrics.append(bad, idempotency_key="k-fail")

    assert await count_points(metrics, "alpha") == 0
    assert await metrics.metric_names("alpha") == []
    assert await metrics.tag_keys("alpha") == []
    retry = await metrics.append(point_batch("alpha", good), idempotency_key="k-fail")
    assert (retry.accepted, retry.replayed) == (2, False)
    assert await metrics.metric_names("alpha") == ["cpu.usage", "disk.free"]


async def test_appends_of_one_series_accumulate(metrics: MetricStore) -> None:
    for i in range(5):
        await metrics.append(point_batch("alpha", [cpu("web-1", NOW_US + i * SECOND, i)]))

    assert await count_points(metrics, "alpha") == 5
    assert await metrics.tag_values("alpha", "host") == ["web-1"]


async def test_a_bad_batch_among_concurrent_ones_fails_alone(metrics: MetricStore) -> None:
    await metrics.append(point_batch("alpha", [cpu("old", NOW_US, 1.0)]), idempotency_key="used")
    good = [
        point_batch("alpha", [cpu(f"web-{i}", NOW_US + j, j) for j in range(10)]) for i in range(12)
    ]
    bad = point_batch("alpha", [cpu("bad", NOW_US, 1.0), cpu("bad", NOW_US + 1, 2.0)])
    _timestamp_no_store_holds(bad)
    replay = point_batch("alpha", [cpu("replayed", NOW_US, 1.0)])

    results = await asyncio.gather(
        *(metrics.append(b, idempotency_key=f"good-{i}") for i, b in enumerate(good[:6])),
        metrics.append(bad, idempotency_key="bad"),
        metrics.append(replay, idempotency_key="used"),
        metrics.append(good[6], idempotency_key="good-0"),  # the same key as good[0]
        *(metrics.append(b) for b in good[7:]),
        return_exceptions=True,
    )

    assert results[:6] == [AppendResult(10, False)] * 6
    assert isinstance(results[6], Exception)
    assert results[7] == AppendResult(1, True)
    assert results[8] == AppendResult(10, True)
    assert results[9:] == [AppendResult(10, False)] * 5
    hosts = await metrics.tag_values("alpha", "host")
    assert hosts == sorted(["old", *(f"web-{i}" for i in [*range(6), *range(7, 12)])])
    assert await count_points(metrics, "alpha") == 1 + 11 * 10
