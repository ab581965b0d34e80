"""A refresh's window of buckets adapts to its time budget, but never below FIRST_WINDOW: a
backfill's refresh costs its scans whatever the window, and a window halved toward one
bucket turned a week of 1,000 series into tens of thousands of refreshes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from domain.metrics.ingest import PointBatch, SeriesSpec, series_id
from domain.metrics.model import MetricType
from domain.storage.tiers import MINUTE
from infra.stores.duckdb import refresh
from infra.stores.duckdb.database import DuckDBDatabase

M = MINUTE.resolution_us
BUCKETS = 600
NOW_US = 2_000_000 * 60 * M


def backfill() -> PointBatch:
    tags = {"s": "0"}
    batch = PointBatch("p")
    batch.series.append(
        SeriesSpec(
            series_id("p", "load", tuple(tags.items())), "load", tags, MetricType.GAUGE, "", ""
        )
    )
    start = NOW_US - BUCKETS * M
    batch.series_index.extend([0] * BUCKETS)
    batch.timestamps_us.extend(start + i * M + 7 for i in range(BUCKETS))
    batch.values.extend(float(i) for i in range(BUCKETS))
    return batch


async def test_slow_refreshes_keep_a_window_of_at_least_the_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ticks = iter(range(10**6))  # every refresh seems to take 2 s, eight times its budget
    monkeypatch.setattr(refresh, "time", SimpleNamespace(monotonic=lambda: 2.0 * next(ticks)))
    db = await DuckDBDatabase.open(str(tmp_path / "vigil.duckdb"))
    try:
        await db.rollups.advance(MINUTE, NOW_US, slice_us=M)  # nothing stored yet
        await db.metrics.append(backfill())  # a backfill behind the watermark
        assert await db.rollups.dirty_count(MINUTE) > 0
        refreshes = 0
        while await db.rollups.refresh_dirty(MINUTE, 100):
            refreshes += 1
        assert await db.rollups.dirty_count(MINUTE) == 0
        rows = await db.rollups.read_rollups(MINUTE, "p", 0, NOW_US)
        assert len(rows) == BUCKETS
    finally:
        await db.close()
    # 600 buckets at 60 or more a refresh; halving from 60 toward 1 would take ~490.
    assert refreshes <= BUCKETS // refresh.FIRST_WINDOW
