"""Request cost: the fixed server CPU and wall time of a small /graphql request.

Three requests, each sent one at a time over one keep-alive connection to a real `vigil
serve` (DuckDB, a fresh file) with a real bearer token:

  a. `{ __typename }`: HTTP, middleware, token, GraphQL and JSON alone;
  b. the small `metricSeries`: one series, 1-minute average over 2h47 (168 buckets) of a
     series that holds 168 points, so that the store's share is as small as it gets;
  c. a 1-point `createMetrics` (a new timestamp each time: nothing is deduplicated).

Server CPU per request is the server's CPU time (user + system, all threads, from /proc)
over a round divided by its requests; wall is the client's, request sent to answer decoded
(client and server on 127.0.0.1; the client is a minimal asyncio HTTP/1.1 client costing
tens of microseconds). Rounds alternate the three cases; each figure is the median of the
rounds, so that a drifting, shared machine meets every case alike.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from bench.common import (
    PROJECT,
    Context,
    CpuWatch,
    Server,
    log,
    machine,
    median,
    now_iso,
    start_vigil,
    token,
)
from bench.rawhttp import RawHTTP

__all__ = ["run"]

ROUNDS = 5
PER_ROUND = 400
WARMUP = 200
NAME = "request_cost.metric"
SERIES_POINTS = 168  # one a minute: 2h47 at a 1-minute step is 168 buckets
MINUTE_MS = 60_000

TYPENAME = "{ __typename }"
SERIES_QUERY = (
    "query Series($project: String!, $name: String!, $from: DateTime!, $to: DateTime) {"
    ' metricSeries(project: $project, name: $name, from: $from, to: $to, step: "1m",'
    ' aggregation: AVG, matchers: [{key: "series", op: EQ, value: "s0"}]) {'
    " timestamps series { tags values } } }"
)
CREATE = (
    "mutation Ingest($project: String!, $points: PointBatch!) "
    "{ createMetrics(project: $project, points: $points) { accepted } }"
)
TARGETS_CPU_US = {"create_metrics_1_point": 1_000}  # issue 16: a small request <= 1 ms of CPU


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _point(name: str, value: float, stamp_ms: int) -> dict[str, Any]:
    return {"name": name, "value": value, "timestamp": stamp_ms, "tags": {"series": "s0"}}


class _Bodies:
    """Every body the run sends, encoded before any timing."""

    def __init__(self, now_ms: int, creates: int) -> None:
        end = now_ms // MINUTE_MS * MINUTE_MS - MINUTE_MS
        self.first = end - (SERIES_POINTS - 1) * MINUTE_MS
        self.end = end + MINUTE_MS  # exclusive
        points = [_point(NAME, float(i % 17), self.first + i * MINUTE_MS) for i in range(168)]
        self.seed = orjson.dumps(
            {"query": CREATE, "variables": {"project": PROJECT, "points": points}}
        )
        self.typename = orjson.dumps({"query": TYPENAME})
        variables = {
            "project": PROJECT,
            "name": NAME,
            "from": _iso(self.first),
            "to": _iso(self.end),
        }
        self.series = orjson.dumps({"query": SERIES_QUERY, "variables": variables})
        # One point each, a millisecond apart, in the last minutes: all distinct.
        self.creates = [
            orjson.dumps(
                {
                    "query": CREATE,
                    "variables": {
                        "project": PROJECT,
                        "points": [_point("request_cost.ingest", 1.0, now_ms - creates + i)],
                    },
                }
            )
            for i in range(creates)
        ]


def _check(case: str, status: int, content: bytes) -> None:
    answer = orjson.loads(content) if content else {}
    if status != 200 or answer.get("errors") or not answer.get("data"):
        raise RuntimeError(f"{case} refused: {status} {content[:300]!r}")
    if case == "metric_series_168_buckets":
        series = answer["data"]["metricSeries"]
        if len(series["timestamps"]) != SERIES_POINTS:
            raise RuntimeError(f"metricSeries answered {len(series['timestamps'])} buckets")


async def _round(
    client: RawHTTP, case: str, bodies: list[bytes], server: Server
) -> tuple[float, list[float]]:
    """Send `bodies` one after another; server CPU seconds used, and each wall time (s)."""
    walls: list[float] = []
    cpu0 = server.cpu_seconds()
    for body in bodies:
        started = time.perf_counter()
        status, content = await client.post(body)
        walls.append(time.perf_counter() - started)
        _check(case, status, content)
    return server.cpu_seconds() - cpu0, walls


async def _measure(server: Server, auth: str, bodies: _Bodies) -> dict[str, dict[str, Any]]:
    client = RawHTTP(f"{server.url}/graphql", {"authorization": f"Bearer {auth}"}, 1)
    await client.open()
    creates = iter(bodies.creates)
    plans = {
        "typename": lambda n: [bodies.typename] * n,
        "metric_series_168_buckets": lambda n: [bodies.series] * n,
        "create_metrics_1_point": lambda n: [next(creates) for _ in range(n)],
    }
    try:
        status, content = await client.post(bodies.seed)
        _check("seed", status, content)
        for case, plan in plans.items():
            await _round(client, case, plan(WARMUP), server)
        cpu: dict[str, list[float]] = {case: [] for case in plans}
        walls: dict[str, list[float]] = {case: [] for case in plans}
        for _ in range(ROUNDS):
            for case, plan in plans.items():
                seconds, times = await _round(client, case, plan(PER_ROUND), server)
                cpu[case].append(seconds / PER_ROUND)
                walls[case].append(statistics.median(times))
    finally:
        await client.close()
    return {
        case: {
            "server_cpu_us_per_request": round(median(cpu[case]) * 1e6),
            "wall_p50_ms": round(median(walls[case]) * 1e3, 3),
            "rounds_cpu_us": [round(c * 1e6) for c in cpu[case]],
            "rounds_wall_p50_ms": [round(w * 1e3, 3) for w in walls[case]],
        }
        for case in plans
    }


def run(ctx: Context) -> dict[str, Any]:
    db = ctx.tmp / "request_cost.duckdb"
    auth = token(db)
    creates = WARMUP + ROUNDS * PER_ROUND
    bodies = _Bodies(int(time.time() * 1000), creates)
    with start_vigil(db, ctx.tmp) as server:
        watch = CpuWatch([server.pid, os.getpid()])
        cases = asyncio.run(_measure(server, auth, bodies))
        cpu = watch.stop()
    log(
        "request_cost: "
        + ", ".join(
            f"{name} {c['server_cpu_us_per_request']} us CPU, p50 {c['wall_p50_ms']} ms"
            for name, c in cases.items()
        )
    )
    met = {
        name: cases[name]["server_cpu_us_per_request"] <= limit
        for name, limit in TARGETS_CPU_US.items()
    }
    return {
        "benchmark": "request_cost",
        "date": now_iso(),
        "machine": machine(),
        "workload": {
            "rounds": ROUNDS,
            "requests_per_round": PER_ROUND,
            "warmup": WARMUP,
            "connections": 1,
        },
        "cases": cases,
        "cpu": cpu,
        "targets": {"server_cpu_us_per_request_max": TARGETS_CPU_US},
        "met": met,
    }
