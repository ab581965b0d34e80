"""Recovery of the write path: a batch failing half-way, a write its caller gave up on, a key
whose writer died. Readers see all of a batch or nothing of it, and a retry stores it once.

The failures are injected after part of a batch is written (faults.py), so the recovery
code runs on every store.
"""

from __future__ import annotations

import asyncio
from contextlib import suppress
from dataclasses import replace
from pathlib import Path

import pytest

from domain.errors import Unavailable
from domain.metrics.model import Aggregation
from domain.metrics.ports import AppendResult, MetricStore
from domain.metrics.queries import GetMetricSeriesQuery, GetMetricsListQuery
from tests.contract.conftest import StoreDatabase, StoreFactory
from tests.contract.data import MINUTE, NOW_US, SECOND, Point, point_batch
from tests.contract.faults import Faults, MongoFaults, another_instance, faults_for

HOSTS = ("a", "b", "c")
# Earlier points of the same series: the catalogue knows them when the batch fails, so
# only the recovery can keep the failed batch's points out of sight.
BEFORE = point_batch(
    "alpha", [Point("cpu", {"host": h}, NOW_US + s, 1.0) for s in range(3) for h in HOSTS]
)
POINTS = [
    Point("cpu", {"host": h}, NOW_US + s * SECOND, float(s)) for s in range(1, 11) for h in HOSTS
]
BATCH = point_batch("alpha", POINTS)
SUM = len(BEFORE) + sum(p.value for p in POINTS)
ALL = len(BEFORE) + len(BATCH)
NOT_DUCKDB = (
    "one process owns a DuckDB file: a key commits with its points, no claim outlives its writer"
)


@pytest.fixture
def faults(
    store_factory: StoreFactory, store_db: StoreDatabase, monkeypatch: pytest.MonkeyPatch
) -> Faults:
    return faults_for(store_factory, store_db, monkeypatch)


async def seen(metrics: MetricStore) -> tuple[int, float | None, int]:
    """What a user sees: the points listed, their sum and their count in a chart."""
    page = await metrics.list_points(GetMetricsListQuery("alpha", first=10_000))
    chart = {
        aggregation: await metrics.aggregate(
            GetMetricSeriesQuery("alpha", "cpu", NOW_US, NOW_US + MINUTE, aggregation, group_by=())
        )
        for aggregation in (Aggregation.SUM, Aggregation.COUNT)
    }
    total = chart[Aggregation.SUM].series[0].values[0] if chart[Aggregation.SUM].series else None
    count = chart[Aggregation.COUNT].series[0].values[0] if chart[Aggregation.COUNT].series else 0
    return len(page.items), total, int(count or 0)


STORED_ONCE = (ALL, SUM, ALL)
BEFORE_ONLY = (len(BEFORE), float(len(BEFORE)), len(BEFORE))


@pytest.mark.parametrize("key", [None, "k-1"])
async def test_a_batch_failing_half_way_shows_nothing_then_its_retry_stores_it_once(
    metrics: MetricStore, faults: Faults, key: str | None
) -> None:
    await metrics.append(BEFORE)
    faults.fail_part_way(stored=len(BATCH) // 2)

    with pytest.raises(Exception):  # noqa: B017 (each store raises its own error type)
        await metrics.append(BATCH, idempotency_key=key)
    faults.heal()

    assert await seen(metrics) == BEFORE_ONLY
    assert await metrics.append(BATCH, idempotency_key=key) == AppendResult(len(BATCH), False)
    assert await seen(metrics) == STORED_ONCE
    again = await metrics.append(BATCH, idempotency_key=key)
    assert (again.accepted, again.replayed) == (len(BATCH), key is not None)
    assert await seen(metrics) == STORED_ONCE


@pytest.mark.parametrize("key", [None, "k-2"])
@pytest.mark.parametrize("lands", ["before the retry", "after the retry"])
async def test_a_write_its_caller_gave_up_on_is_never_stored_twice(
    metrics: MetricStore, faults: Faults, key: str | None, lands: str
) -> None:
    await metrics.append(BEFORE)

    await faults.give_up_while_writing(metrics.append(BATCH, idempotency_key=key))

    if lands == "before the retry":
        await faults.land()
        assert await seen(metrics) in (BEFORE_ONLY, STORED_ONCE)  # all of it or nothing
        retry = await metrics.append(BATCH, idempotency_key=key)
    else:
        retry = await faults.before_landing(lambda: metrics.append(BATCH, idempotency_key=key))
    assert retry.accepted == len(BATCH)
    assert await seen(metrics) == STORED_ONCE


async def test_a_key_whose_writer_died_is_taken_over_and_stored_once(
    store_factory: StoreFactory, store_db: StoreDatabase, faults: Faults, tmp_path: Path
) -> None:
    if not isinstance(faults, MongoFaults):
        pytest.skip(NOT_DUCKDB)
    await store_db.metrics.append(BEFORE)
    other = await another_instance(
        store_factory, store_db, tmp_path, timeout_ms=1_000, key_stale_seconds=1.5
    )
    try:
        hung = faults.hang_part_way(stored=len(BATCH) // 2)
        # What the dead writer was sending need not be the retry (its points at other
        # times would show if its half batch were not set aside).
        dead = point_batch("alpha", [replace(p, ts=p.ts + 20 * SECOND) for p in POINTS])
        dying = asyncio.create_task(store_db.metrics.append(dead, idempotency_key="k-3"))
        await hung.wait()  # half of it written, the key claimed, and nothing more happens

        taken = await other.metrics.append(BATCH, idempotency_key="k-3")

        assert taken == AppendResult(len(BATCH), False)
        assert await seen(other.metrics) == STORED_ONCE
        dying.cancel()  # the first writer comes back to life at last, and gives up
        with suppress(asyncio.CancelledError):
            await dying
        assert await seen(other.metrics) == STORED_ONCE
        assert await seen(store_db.metrics) == STORED_ONCE
        replay = await store_db.metrics.append(BATCH, idempotency_key="k-3")
        assert replay == AppendResult(len(BATCH), True)
    finally:
        await other.close()


async def test_a_key_another_process_is_storing_makes_a_retry_wait_then_give_up(
    store_factory: StoreFactory, store_db: StoreDatabase, faults: Faults, tmp_path: Path
) -> None:
    """While the claim's writer may still be alive, another instance neither stores the
    batch a second time nor takes the key: it waits, then answers that the batch is
    still being stored (a retryable error)."""
    if not isinstance(faults, MongoFaults):
        pytest.skip(NOT_DUCKDB)
    other = await another_instance(store_factory, store_db, tmp_path, key_wait_seconds=0.3)
    hung = faults.hang_part_way(stored=len(BATCH) // 2)
    writing = asyncio.create_task(store_db.metrics.append(BATCH, idempotency_key="k-5"))
    try:
        await hung.wait()

        with pytest.raises(Unavailable, match="still being stored"):
            await other.metrics.append(BATCH, idempotency_key="k-5")

        assert (await seen(other.metrics))[0] <= len(BATCH) // 2  # no second copy
        writing.cancel()  # the writer gives up: its batch is set aside, its key freed
        with suppress(asyncio.CancelledError):
            await writing
        retry = await other.metrics.append(BATCH, idempotency_key="k-5")
        assert retry == AppendResult(len(BATCH), False)
        expected = (len(BATCH), sum(p.value for p in POINTS), len(BATCH))
        assert await seen(other.metrics) == expected
    finally:
        writing.cancel()
        with suppress(asyncio.CancelledError):
            await writing
        await other.close()


async def test_a_key_this_process_gave_up_on_is_retried_at_once(
    metrics: MetricStore, faults: Faults
) -> None:
    """The server could not be told that the failed batch is void: its key stays claimed.
    This process knows the claim's writer is gone, so its retry takes the key over
    without waiting for the claim to turn stale."""
    if not isinstance(faults, MongoFaults):
        pytest.skip(NOT_DUCKDB)
    await metrics.append(BEFORE)
    faults.fail_part_way(stored=len(BATCH) // 2)
    faults.fail_marking_void()

    with pytest.raises(Exception):  # noqa: B017
        await metrics.append(BATCH, idempotency_key="k-4")
    faults.heal()

    retry = await metrics.append(BATCH, idempotency_key="k-4")
    assert retry == AppendResult(len(BATCH), False)
    assert await seen(metrics) == STORED_ONCE


async def test_another_instance_sees_new_series_and_void_batches(
    store_factory: StoreFactory, store_db: StoreDatabase, faults: Faults, tmp_path: Path
) -> None:
    if not isinstance(faults, MongoFaults):
        pytest.skip("one process owns a DuckDB file: there is no other instance")
    other = await another_instance(store_factory, store_db, tmp_path, catalogue_refresh_seconds=0.0)
    try:
        await other.metrics.list_points(GetMetricsListQuery("alpha"))  # catalogue loaded
        await store_db.metrics.append(BEFORE)
        assert await seen(other.metrics) == BEFORE_ONLY  # series it did not know
        faults.fail_part_way(stored=len(BATCH) // 2)
        with pytest.raises(Exception):  # noqa: B017
            await store_db.metrics.append(BATCH)
        assert await seen(other.metrics) == BEFORE_ONLY  # the half batch is void there too
    finally:
        await other.close()
