"""What usage accounting adds to ingest: the meter's CPU time per batch.

The ingest benchmark's batch shape (1,000 series x 5 instants, time-major: every batch
names all 1,000 series) and the collector shape (1,000 series, one point each) go through
`UsageMeter.count_points` as the MetricCollected handler calls it, BATCHES times, in the
same minute; the figure is CPU microseconds per batch and per point (process time, so a
busy machine does not inflate it much). Compare with the ingest benchmark's server CPU
per batch (`server_cpu_seconds / requests`) for the share of ingest it costs.
"""

from __future__ import annotations

import time
from typing import Any

from bench.common import Context, log, median
from domain.usage.meter import UsageMeter

BATCHES = 200
ROUNDS = 5
SERIES = 1_000


class _Clock:
    def now_us(self) -> int:
        return 1_800_000_000_000_000


def _series() -> list[dict[str, Any]]:
    return [{"id": 10_000 + i, "name": "bench.metric", "source": ""} for i in range(SERIES)]


def _cpu_us_per_batch(series_index: list[int]) -> float:
    series = _series()
    runs = []
    for _ in range(ROUNDS):
        meter = UsageMeter(_Clock())
        started = time.process_time()
        for _ in range(BATCHES):
            meter.count_points("bench", series, series_index)
        runs.append((time.process_time() - started) / BATCHES * 1e6)
    return median(runs)


def run(ctx: Context) -> dict[str, Any]:
    shapes = {
        "ingest_bench_5000_points": list(range(SERIES)) * 5,
        "one_point_per_series_1000": list(range(SERIES)),
    }
    result: dict[str, Any] = {"benchmark": "usage", "batches": BATCHES, "series": SERIES}
    for name, index in shapes.items():
        per_batch = _cpu_us_per_batch(index)
        result[name] = {
            "cpu_us_per_batch": round(per_batch, 1),
            "cpu_ns_per_point": round(per_batch * 1000 / len(index), 1),
        }
        log(f"usage meter, {name}: {per_batch:.0f} us CPU per batch")
    return result
