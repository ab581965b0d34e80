"""Cost reports on DuckDB: `costReport` over a week of 110 series (25 workloads on 5 nodes,
CPU and memory request and usage, and the nodes' capacity; a point a minute: 1.1M points).

`python -m bench cost` (or `python -m bench.cost`) loads the points (untimed), then times
the report's query handler (series reads through the chart query on raw points, the
allocation in decimals, the cents) for steps of 1 hour and 1 day, idle SEPARATE and SHARED,
and the allocation alone. It prints one JSON line of medians in milliseconds.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from decimal import Decimal
from typing import Any

WORKLOADS, NODES, MINUTES = 25, 5, 7 * 24 * 60
MINUTE_US = 60_000_000
HOUR_US = 60 * MINUTE_US
RUNS = 3


async def _main() -> dict[str, Any]:
    from domain.cost.compute import IdleMode
    from domain.cost.model import CostMetric, CostRole, Price, Pricing
    from domain.cost.queries import GetCostReportQuery
    from domain.cost.query_handlers import cost_report
    from domain.metrics import query_handlers as metric_queries
    from domain.metrics.ingest import PointBatch, SeriesSpec, series_id
    from domain.metrics.model import MetricType
    from infra.stores.duckdb import DuckDBDatabase

    lines: list[tuple[str, dict[str, str], float]] = []
    for w in range(WORKLOADS):
        tags = {"owner": f"w{w}", "node": f"n{w % NODES}"}
        for short, scale in (("cpu", 1.0), ("mem", 2.0**30)):
            lines.append((f"{short}.request", tags, (1 + w % 3) * scale))
            lines.append((f"{short}.usage", tags, (0.5 + w % 4 * 0.4) * scale))
    for n in range(NODES):
        lines.append(("cpu.capacity", {"node": f"n{n}"}, 16.0))
        lines.append(("mem.capacity", {"node": f"n{n}"}, 64.0 * 2**30))
    specs = [
        SeriesSpec(
            series_id("bench", name, tuple(sorted(tags.items()))),
            name,
            tags,
            MetricType.GAUGE,
            "",
            "",
        )
        for name, tags, _ in lines
    ]
    end = time.time_ns() // 1000 // HOUR_US * HOUR_US
    start = end - MINUTES * MINUTE_US
    pricing = Pricing(
        "bench",
        (
            Price("cpu_cores", "core-hour", Decimal("0.031"), "USD"),
            Price("memory_bytes", "GiB-hour", Decimal("0.004"), "USD"),
        ),
        tuple(
            CostMetric(resource, role, f"{short}.{role.value}")
            for resource, short in (("cpu_cores", "cpu"), ("memory_bytes", "mem"))
            for role in CostRole
        ),
        version=1,
    )
    with tempfile.TemporaryDirectory() as tmp:
        db = await DuckDBDatabase.open(f"{tmp}/bench.duckdb")
        try:
            n = len(specs)
            for k in range(0, MINUTES, 500):
                stamps = [start + (k + i) * MINUTE_US for i in range(min(500, MINUTES - k))]
                values = [
                    lines[s][2] * (1 + (t % 7) / 20) for t in range(len(stamps)) for s in range(n)
                ]
                batch = PointBatch(
                    "bench",
                    specs,
                    [s for _ in stamps for s in range(n)],
                    [ts for ts in stamps for _ in range(n)],
                    values,
                )
                await db.metrics.append(batch)
            await db.pricing.save_pricing(pricing, expected_version=0)

            async def ask(query: Any) -> Any:
                return await metric_queries.metric_series(query, metrics=db.metrics)

            timings: dict[str, float] = {}
            for step_name, step in (("1h", HOUR_US), ("1d", 24 * HOUR_US)):
                for mode in IdleMode:
                    query = GetCostReportQuery("bench", start, end, step_us=step, idle=mode)
                    took = []
                    for _ in range(RUNS):
                        began = time.perf_counter()
                        answer = await cost_report(query, pricing_store=db.pricing, ask=ask)
                        took.append((time.perf_counter() - began) * 1000)
                    timings[f"step_{step_name}_{mode.value}_ms"] = round(statistics.median(took), 1)
            total = str(answer.total)
        finally:
            await db.close()
    return {
        "bench": "cost",
        "series": len(specs),
        "points": len(specs) * MINUTES,
        "owners": WORKLOADS,
        "total_usd_last": total,
        **timings,
    }


def run(ctx: object = None) -> dict[str, Any]:
    return asyncio.run(_main())


if __name__ == "__main__":
    print(json.dumps(run()))
