"""The rollup runner on a real store: one instance works (the lease), tiers reach
`now - lag`, late points are recomputed on the next pass."""

from __future__ import annotations

from typing import Any, cast

import pytest

from domain.metrics.ports import MetricStore
from domain.ports import LeaseStore
from domain.storage.ports import RollupStore
from domain.storage.rollup_runner import RollupRunner, RollupSettings
from domain.storage.tiers import HOUR, MINUTE
from infra.stores.duckdb.rollups import DuckDBRollupStore
from tests.contract.conftest import StoreDatabase
from tests.contract.data import NOW_US, SECOND, Point, point_batch

M = MINUTE.resolution_us
H = HOUR.resolution_us
LAG = 120 * SECOND


class FixedClock:
    def __init__(self, now_us: int) -> None:
        self.now = now_us

    def now_us(self) -> int:
        return self.now


@pytest.fixture
def rollups(store_db: StoreDatabase) -> RollupStore:
    return cast(RollupStore, cast(Any, store_db).rollups)  # both stores have tiers


async def test_one_instance_rolls_up_to_now_minus_lag_and_recomputes_late_points(
    metrics: MetricStore, rollups: RollupStore, leases: LeaseStore
) -> None:
    clock = FixedClock(NOW_US + 30 * M + 17)
    settings = RollupSettings(lag_us=LAG, slice_us=H, dirty_batch=3, refresh_quiet_seconds=0)
    first = RollupRunner(rollups, leases, clock, owner="a", settings=settings)
    second = RollupRunner(rollups, leases, clock, owner="b", settings=settings)
    points = [
        Point("cpu", {"host": str(h)}, NOW_US - 3 * H + i * 20 * SECOND, float(i))
        for h in range(3)
        for i in range(600)
    ]
    await metrics.append(point_batch("p", points))

    done = await first.run_once()
    assert done.ran and not (await second.run_once()).ran  # the lease: one instance works
    assert done.watermarks == {"1m": NOW_US + 28 * M, "1h": NOW_US}
    rows = await rollups.read_rollups(MINUTE, "p", 0, NOW_US + H)
    assert sum(r.count for r in rows) == len(points)

    late = [
        Point("cpu", {"host": str(h)}, NOW_US - 2 * H + m * M + 5, 1000.0)
        for h in range(3)
        for m in range(4)
    ]
    await metrics.append(point_batch("p", late))
    # A mark: a bucket on MongoDB, a series' span of buckets on DuckDB.
    minutes = 3 if isinstance(rollups, DuckDBRollupStore) else 12
    assert await rollups.dirty_count(MINUTE) == minutes and await rollups.dirty_count(HOUR) == 3
    clock.now += 10 * M
    again = await first.run_once()
    assert again.refreshed == {"1m": minutes, "1h": 3}
    assert again.watermarks == {"1m": NOW_US + 38 * M, "1h": NOW_US}
    assert await rollups.dirty_count(MINUTE) == 0 and await rollups.dirty_count(HOUR) == 0
    rows = await rollups.read_rollups(HOUR, "p", 0, NOW_US + H)
    before_watermark = sum(1 for p in points if p.ts < NOW_US)
    assert sum(r.count for r in rows) == before_watermark + len(late)
    assert max(r.max for r in rows) == 1000.0

    await first.close()  # gives the lease back: the other instance works at once
    assert (await second.run_once()).ran
