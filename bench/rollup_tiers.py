"""Rollup tiers on DuckDB, at the store (no HTTP): what decision 0028 was chosen with.

`python -m bench.rollup_tiers` prints one JSON object:

  a. rollup cost: 1,000 series x 1,000 points (10 s apart, ~2.8 h), the 1-minute and the
     1-hour tier rolled up from raw points (the runner's slices of one hour), and the
     1-hour tier computed from the 1-minute rows instead (the alternative), per 1M points;
  b. bytes per bucket: the file's growth per tier row after a checkpoint;
  c. the runner's first pass over that history (adaptive slices), then chart reads over
     30 days (100 series, one point a minute, 4.3M points): one series and all series
     averaged at a 1-hour step (the 1-minute tier), at a 2-hour step (the 1-hour tier) and
     at 5 minutes, each from raw points (`use_tiers=False`) and from the tiers; plus one
     series over a year (one point every 5 minutes) at a 2-hour step (4,380 buckets).
     Medians of 7 runs after 2 warm-ups; raw and tiered alternate, and every tiered
     answer is checked against raw's.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from typing import Any

import duckdb
import numpy as np
import orjson

from domain.matchers import MatchOp, TagMatcher
from domain.metrics.ingest import PointBatch, SeriesSpec, series_id
from domain.metrics.model import Aggregation, MetricType
from domain.metrics.queries import GetMetricSeriesQuery
from domain.storage.rollup_runner import RollupRunner, RollupSettings
from domain.storage.tiers import HOUR, MINUTE
from infra.stores.duckdb import DuckDBDatabase

M = MINUTE.resolution_us
H = HOUR.resolution_us
DAY = 24 * H
PROJECT = "bench"
RUNS, WARMUP = 7, 2


def batches(
    name: str, series: int, points: int, every_us: int, end_us: int, chunk: int = 100_000
) -> list[PointBatch]:
    """Points of `series` series, `points` each, `every_us` apart, ending at `end_us`, in
    time order (as collectors send), cut into batches of about `chunk` points."""
    rng = np.random.default_rng(1)
    specs = [
        SeriesSpec(
            series_id(PROJECT, name, (("series", f"s{i}"),)),
            name,
            {"series": f"s{i}"},
            MetricType.GAUGE,
            "",
            "",
        )
        for i in range(series)
    ]
    start = end_us - points * every_us
    per = max(1, chunk // series)
    out = []
    for first in range(0, points, per):
        n = min(per, points - first)
        batch = PointBatch(PROJECT)
        batch.series = specs
        steps = np.arange(first, first + n)
        batch.series_index = np.tile(np.arange(series), n).tolist()
        batch.timestamps_us = np.repeat(start + steps * every_us, series).tolist()
        batch.values = np.round(rng.lognormal(3, 1, n * series), 3).tolist()
        out.append(batch)
    return out


class _At:
    def __init__(self, now_us: int) -> None:
        self.now = now_us

    def now_us(self) -> int:
        return self.now


async def roll_all(db: DuckDBDatabase, to_us: int) -> float:
    """What the runner does on a store full of history: slices that adapt."""
    runner = RollupRunner(
        db.rollups, db.leases, _At(to_us), owner="bench", settings=RollupSettings(lag_us=0)
    )
    began = time.perf_counter()
    await runner.run_once()
    return time.perf_counter() - began


async def timed(db: DuckDBDatabase, query: GetMetricSeriesQuery) -> tuple[float, Any]:
    began = time.perf_counter()
    result = await db.metrics.aggregate(query)
    return (time.perf_counter() - began) * 1000, result


async def compare(
    db: DuckDBDatabase, query: GetMetricSeriesQuery, *, exact: bool
) -> dict[str, Any]:
    raw_q = replace(query, use_tiers=False)
    raw_ms, tier_ms = [], []
    resolution = ""
    worst = 0.0  # the largest relative difference between tiered and raw values
    for run in range(WARMUP + RUNS):
        r_ms, raw = await timed(db, raw_q)
        t_ms, tiered = await timed(db, query)
        resolution = tiered.resolution
        a = np.array([[np.nan if v is None else v for v in s.values] for s in raw.series])
        b = np.array([[np.nan if v is None else v for v in s.values] for s in tiered.series])
        if exact:
            assert np.allclose(a, b, rtol=1e-12, equal_nan=True), "tiers and raw disagree"
        assert np.array_equal(np.isnan(a), np.isnan(b)), "tiers and raw fill other buckets"
        filled = ~np.isnan(a) & (a != 0)
        worst = max(worst, float(np.max(np.abs(b[filled] - a[filled]) / np.abs(a[filled]))))
        if run >= WARMUP:
            raw_ms.append(r_ms)
            tier_ms.append(t_ms)
    raw_median, tier_median = statistics.median(raw_ms), statistics.median(tier_ms)
    return {
        "resolution": resolution,
        "raw_ms": round(raw_median, 2),
        "tier_ms": round(tier_median, 2),
        "speedup": round(raw_median / tier_median, 1),
        "max_relative_difference": float(f"{worst:.3g}"),
    }


async def rollup_cost(folder: str) -> dict[str, Any]:
    now = time.time_ns() // 1000 // H * H
    path = os.path.join(folder, "cost.duckdb")
    db = await DuckDBDatabase.open(path)
    for batch in batches("cost", 1000, 1000, 10_000_000, now):
        await db.metrics.append(batch)
    await db.close()
    before = os.path.getsize(path)  # noqa: ASYNC240 (a benchmark: nothing else waits)
    db = await DuckDBDatabase.open(path)
    minute = hour = 0.0
    mark = 0
    began = time.perf_counter()
    while mark < now:
        mark = await db.rollups.advance(MINUTE, now, slice_us=H)
    minute = time.perf_counter() - began
    mark = 0
    began = time.perf_counter()
    while mark < now:
        mark = await db.rollups.advance(HOUR, now, slice_us=H)
    hour = time.perf_counter() - began
    await db.close()
    after = os.path.getsize(path)  # noqa: ASYNC240
    con = duckdb.connect(path)
    rows_1m = con.execute("SELECT count(*) FROM rollup_1m").fetchone()[0]
    rows_1h = con.execute("SELECT count(*) FROM rollup_1h").fetchone()[0]
    bins = con.execute("SELECT avg(len(sketch_keys)) FROM rollup_1m").fetchone()[0]
    # The alternative: 1h rows merged from the 1-minute rows (sketch bins unnested, summed).
    began = time.perf_counter()
    con.execute(
        f"""
        CREATE TEMP TABLE h AS
        WITH b AS (SELECT series_id, bucket_us // {H} * {H} AS hb, unnest(sketch_keys) AS k,
                          unnest(sketch_counts) AS c FROM rollup_1m),
        bins AS (SELECT series_id, hb, k, sum(c) AS c FROM b GROUP BY ALL),
        sk AS (SELECT series_id, hb, list(k ORDER BY k) AS ks, list(c ORDER BY k) AS cs
               FROM bins GROUP BY ALL),
        st AS (SELECT series_id, bucket_us // {H} * {H} AS hb, sum(count) AS n, sum(sum) AS s,
                      min(min) AS lo, max(max) AS hi, arg_min(first, first_us) AS f,
                      min(first_us) AS fu, arg_max(last, last_us) AS l, max(last_us) AS lu
               FROM rollup_1m GROUP BY ALL)
        SELECT * FROM st JOIN sk USING (series_id, hb)
        """
    )
    from_minutes = time.perf_counter() - began
    con.close()
    return {
        "points": 1_000_000,
        "rollup_1m_s_per_1M_points": round(minute, 2),
        "rollup_1h_from_raw_s_per_1M_points": round(hour, 2),
        "rollup_1h_from_1m_rows_s_per_1M_points": round(from_minutes, 2),
        "rows_1m": rows_1m,
        "rows_1h": rows_1h,
        "mean_sketch_bins_per_1m_bucket": round(bins, 1),
        "file_bytes_before": before,
        "file_bytes_after": after,
        "bytes_per_tier_row": round((after - before) / (rows_1m + rows_1h), 1),
    }


async def reads(folder: str) -> dict[str, Any]:
    now = time.time_ns() // 1000 // H * H
    db = await DuckDBDatabase.open(os.path.join(folder, "reads.duckdb"))
    for batch in batches("month", 100, 30 * 1440, M, now):
        await db.metrics.append(batch)
    for batch in batches("year", 1, 365 * 288, 5 * M, now):
        await db.metrics.append(batch)
    roll = await roll_all(db, now)
    start, end = now - 30 * DAY + 17 * M + 3, now - 5 * M  # unaligned ends: stitched
    series7 = (TagMatcher("series", MatchOp.EQ, "s7"),)
    answers = {
        "runner_pass_over_4.4M_points_both_tiers_s": round(roll, 2),
        "one_series_30d_1h_avg": await compare(
            db,
            GetMetricSeriesQuery(PROJECT, "month", start, end, Aggregation.AVG, H, series7),
            exact=True,
        ),
        "all_series_30d_1h_avg": await compare(
            db, GetMetricSeriesQuery(PROJECT, "month", start, end, Aggregation.AVG, H), exact=True
        ),
        "all_series_30d_2h_avg": await compare(
            db,
            GetMetricSeriesQuery(PROJECT, "month", start, end, Aggregation.AVG, 2 * H),
            exact=True,
        ),
        "all_series_30d_5m_avg": await compare(
            db,
            GetMetricSeriesQuery(PROJECT, "month", start, end, Aggregation.AVG, 5 * M),
            exact=True,
        ),
        "one_series_1y_2h_avg": await compare(
            db,
            GetMetricSeriesQuery(PROJECT, "year", now - 365 * DAY, now, Aggregation.AVG, 2 * H),
            exact=True,
        ),
    }
    await db.close()
    return answers


async def main() -> None:
    with tempfile.TemporaryDirectory(prefix="vigil-tiers-") as folder:
        result = {
            "bench": "rollup_tiers",
            "cost": await rollup_cost(folder),
            "reads": await reads(folder),
        }
    sys.stdout.write(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode() + "\n")


if __name__ == "__main__":
    asyncio.run(main())
