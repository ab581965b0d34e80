"""Retention on DuckDB: what a raw delete costs ingest while it runs.

`python -m bench.retention` stores 4.32M points (1,000 series, one point each 200 s over
10 days), then appends 1,000-point batches one after another at "now" and records each
append's latency: first alone, then while `expire_points` deletes the points older than
5 days (about half). It prints one JSON line: the delete's points and points/s, its
slices, and the append p50/p99 during the delete as ratios to the idle ones.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time

SERIES, INSTANTS, STEP_US = 1_000, 4_320, 200_000_000
DAY_US = 86_400_000_000


def _batch(project: str, stamps: list[int], specs: list[object]) -> object:
    from domain.metrics.ingest import PointBatch

    return PointBatch(
        project,
        list(specs),  # type: ignore[arg-type]
        [s for _ in stamps for s in range(SERIES)],
        [ts for ts in stamps for _ in range(SERIES)],
        [float(i % 97) for i in range(len(stamps) * SERIES)],
    )


async def main() -> dict[str, object]:
    from domain.metrics.ingest import SeriesSpec, series_id
    from domain.metrics.model import MetricType
    from infra.stores.duckdb import DuckDBDatabase

    specs = [
        SeriesSpec(
            series_id("bench", "m", (("s", str(s)),)), "m", {"s": str(s)}, MetricType.GAUGE, "", ""
        )
        for s in range(SERIES)
    ]
    now = time.time_ns() // 1000
    first = now - INSTANTS * STEP_US
    with tempfile.TemporaryDirectory() as tmp:
        db = await DuckDBDatabase.open(f"{tmp}/bench.duckdb")
        try:
            for k in range(0, INSTANTS, 50):
                stamps = [first + (k + i) * STEP_US for i in range(min(50, INSTANTS - k))]
                await db.metrics.append(_batch("bench", stamps, specs))  # type: ignore[arg-type]
            print("loaded", file=sys.stderr)
            tick = [now]

            async def append_once() -> float:
                tick[0] += 1_000
                started = time.perf_counter()
                await db.metrics.append(_batch("bench", [tick[0]], specs))  # type: ignore[arg-type]
                return time.perf_counter() - started

            idle = [await append_once() for _ in range(300)]
            writes = [0]
            slices: list[float] = []
            store = db.retention
            original = db._runner.write

            async def counted(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
                started = time.perf_counter()
                result = await original(fn, *args, **kwargs)
                if fn.__name__ == "delete_raw_points":
                    slices.append(time.perf_counter() - started)
                writes[0] += 1
                return result

            db._runner.write = counted  # type: ignore[method-assign]
            started = time.perf_counter()
            task = asyncio.create_task(store.expire_points("bench", now - 5 * DAY_US, None, ()))
            busy: list[float] = []
            while not task.done():
                busy.append(await append_once())
            deleted = await task
            took = time.perf_counter() - started
        finally:
            await db.close()

    def pct(values: list[float], q: float) -> float:
        return sorted(values)[min(len(values) - 1, int(q * len(values)))]

    return {
        "benchmark": "retention",
        "deleted_points": deleted,
        "delete_seconds": round(took, 2),
        "deleted_points_per_s": round(deleted / took),
        "slices": len(slices),
        "slice_ms_p50": round(statistics.median(slices) * 1000, 1),
        "slice_ms_max": round(max(slices) * 1000, 1),
        "append_ms_idle_p50": round(pct(idle, 0.5) * 1000, 2),
        "append_ms_idle_p99": round(pct(idle, 0.99) * 1000, 2),
        "appends_during_delete": len(busy),
        "append_p50_ratio": round(pct(busy, 0.5) / pct(idle, 0.5), 2),
        "append_p99_ratio": round(pct(busy, 0.99) / pct(idle, 0.99), 2),
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main())))
