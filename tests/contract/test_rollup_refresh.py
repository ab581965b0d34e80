"""Late points into rollup buckets already marked or already refreshed: DuckDB remembers the
spans it marked and lets a series still taking late points wait for its refresh (decision
0035); the tiers must still equal their recomputation from raw points."""

from __future__ import annotations

import asyncio

from domain.metrics.model import Aggregation
from domain.metrics.ports import MetricStore
from domain.storage.ports import RollupStore
from domain.storage.tiers import HOUR, MINUTE, ROLLUP_TIERS
from infra.stores.duckdb.rollups import DuckDBRollupStore
from tests.contract.data import NOW_US, Point, point_batch, sid_of
from tests.contract.test_rollup_tiers import (
    BASE,
    PROJECT,
    Model,
    advance,
    chart,
    check_rows,
    refresh,
    rollups,
)

__all__ = ["rollups"]

H, M = HOUR.resolution_us, MINUTE.resolution_us


async def test_late_points_in_buckets_marked_and_refreshed_before_are_marked_again(
    metrics: MetricStore, rollups: RollupStore
) -> None:
    """A late append whose buckets are already marked may skip marking them (DuckDB
    remembers its committed spans), but once a refresh has recomputed them, the next late
    point in the same buckets must mark them again, or its rows stay stale."""
    temp = ("temp", {"host": "a"})
    model = Model()
    first = [Point(*temp, BASE + m * M + 5, float(m)) for m in range(120)]
    await metrics.append(point_batch(PROJECT, first))
    model.add(PROJECT, first)
    for tier in ROLLUP_TIERS:
        await advance(rollups, tier, BASE + 2 * H)
    for round_ in range(3):
        # Two late appends into the same buckets, then a refresh, three times over.
        for n in range(2):
            late = [Point(*temp, BASE + m * M + 10 + 10 * round_ + n, 1000.0 + m) for m in (3, 70)]
            await metrics.append(point_batch(PROJECT, late))
            model.add(PROJECT, late)
            assert await rollups.dirty_count(MINUTE) > 0 and await rollups.dirty_count(HOUR) > 0
        await refresh(rollups)
        assert await check_rows(rollups, model, await rollups.watermarks()) == 122
    rows = {r.bucket_us: r for r in await rollups.read_rollups(MINUTE, PROJECT, 0, NOW_US)}
    assert rows[BASE + 3 * M].count == 7 and rows[BASE + 70 * M].max == 1070.0


async def test_a_series_still_taking_late_points_is_refreshed_once_they_stop(
    metrics: MetricStore, rollups: RollupStore
) -> None:
    """`quiet_seconds`: DuckDB leaves the spans of a series whose late points are still
    coming (its buckets would be recomputed again and again); charts read them from raw
    points meanwhile. Once the series is quiet, the refresh takes them. MongoDB may
    recompute at once."""
    temp, other = ("temp", {"host": "a"}), ("temp", {"host": "b"})
    first = [Point(*tags, BASE + m * M + 5, float(m)) for m in range(120) for tags in (temp, other)]
    await metrics.append(point_batch(PROJECT, first))
    for tier in ROLLUP_TIERS:
        await advance(rollups, tier, BASE + 2 * H)
    await metrics.append(point_batch(PROJECT, [Point(*other, BASE + 7 * M + 9, 700.0)]))
    await asyncio.sleep(0.6)  # `other` is quiet now
    await metrics.append(point_batch(PROJECT, [Point(*temp, BASE + 3 * M + 9, 300.0)]))
    refreshed = await rollups.refresh_dirty(MINUTE, 50, quiet_seconds=0.5)
    rows = {
        (r.series_id, r.bucket_us): r
        for r in await rollups.read_rollups(MINUTE, PROJECT, 0, NOW_US)
    }
    assert rows[sid_of(PROJECT, *other), BASE + 7 * M].max == 700.0  # quiet: recomputed
    if isinstance(rollups, DuckDBRollupStore):  # `temp` waits
        assert refreshed == 1
        assert rows[sid_of(PROJECT, *temp), BASE + 3 * M].max == 3.0
        assert await rollups.dirty_count(MINUTE) == 1
        served = await chart(
            metrics, "temp", BASE, BASE + 2 * H, M, None, Aggregation.MAX, use_tiers=True
        )
        values = [v for line in served.series for v in line.values if v is not None]
        assert 300.0 in values  # its dirty minute is read from raw points
        await asyncio.sleep(0.6)
        assert await rollups.refresh_dirty(MINUTE, 50, quiet_seconds=0.5) == 1
    rows = {
        (r.series_id, r.bucket_us): r
        for r in await rollups.read_rollups(MINUTE, PROJECT, 0, NOW_US)
    }
    assert rows[sid_of(PROJECT, *temp), BASE + 3 * M].max == 300.0
    assert await rollups.dirty_count(MINUTE) == 0
