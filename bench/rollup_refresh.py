"""Refreshing a backfill's dirty tier buckets, at the store (decision 0035).

A backfill of SERIES series x 10,000 points one minute apart (a week each, one append per
series) behind both tiers' watermarks marks one dirty span per series and tier; then
`refresh_dirty` runs until nothing is dirty, the 1h tier first, as the runner does. Reports
per tier the refreshes, their wall and CPU time and the longest one: the longest is how
long an append may wait behind a refresh, the total how soon the tiers serve the backfill.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

from bench.common import Context, log, machine, now_iso
from domain.metrics.ingest import PointBatch, SeriesSpec, series_id
from domain.metrics.model import MetricType
from domain.storage.tiers import HOUR, MINUTE
from infra.stores.duckdb.database import DuckDBDatabase

__all__ = ["run"]

SERIES = int(os.environ.get("VIGIL_BENCH_REFRESH_SERIES", "200"))
POINTS = 10_000
MINUTE_US = 60_000_000


def _batch(series: int, start_us: int) -> PointBatch:
    tags = {"s": str(series)}
    sid = series_id("bench", "load", tuple(tags.items()))
    batch = PointBatch("bench")
    batch.series.append(SeriesSpec(sid, "load", tags, MetricType.GAUGE, "", ""))
    batch.series_index.extend([0] * POINTS)
    batch.timestamps_us.extend(start_us + i * MINUTE_US for i in range(POINTS))
    batch.values.extend(float(i % 97) for i in range(POINTS))
    return batch


async def _measure(path: str) -> dict[str, Any]:
    db = await DuckDBDatabase.open(path)
    try:
        now_us = time.time_ns() // 1000
        for tier in (HOUR, MINUTE):
            r = tier.resolution_us
            await db.rollups.advance(tier, (now_us - 2 * MINUTE_US) // r * r, slice_us=r)
        started = time.perf_counter()
        for series in range(SERIES):
            await db.metrics.append(_batch(series, now_us - POINTS * MINUTE_US))
        out: dict[str, Any] = {"backfill_s": round(time.perf_counter() - started, 1)}
        for tier in (HOUR, MINUTE):
            wall, cpu, refreshes, longest = time.perf_counter(), time.process_time(), 0, 0.0
            while True:
                began = time.perf_counter()
                done = await db.rollups.refresh_dirty(tier, 20_000)
                longest = max(longest, time.perf_counter() - began)
                if not done:
                    break
                refreshes += 1
            out[tier.name] = {
                "refreshes": refreshes,
                "wall_s": round(time.perf_counter() - wall, 2),
                "cpu_s": round(time.process_time() - cpu, 2),
                "longest_ms": round(longest * 1000, 1),
            }
            log(f"rollup_refresh: {tier.name} {out[tier.name]}")
        return out
    finally:
        await db.close()


def run(ctx: Context) -> dict[str, Any]:
    log(f"rollup_refresh: backfill of {SERIES} series x {POINTS} points, then refreshes")
    result = asyncio.run(_measure(str(ctx.tmp / "rollup_refresh.duckdb")))
    return {
        "benchmark": "rollup_refresh",
        "date": now_iso(),
        "machine": machine(),
        "workload": {"series": SERIES, "points_per_series": POINTS, "spacing_s": 60},
        **result,
    }
