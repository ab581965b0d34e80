"""Ingest: points/s acknowledged by `createMetrics`, against a bare orjson Starlette endpoint.

1,000 series (`bench.metric`, tag `series: s0..s999`) x 1,000 points = 1M points, sent as
200 batches of 5,000 over a few concurrent HTTP connections. A batch is what one scrape
of every series at five successive instants looks like (time-major: 5 timestamps x 1,000
series), so each batch names all 1,000 series. Timestamps are epoch milliseconds, 10 s
apart, ending a minute ago (within retention, never in the future). Request bodies are
encoded with orjson before the clock starts, so the client only moves bytes.

The baseline decodes the same bodies with orjson and answers a small JSON; it is driven
by the same client, once before and once after Vigil, and the ratio uses their mean.
Once Vigil's server has stopped, DuckDB counts the points in its file (`points_stored`):
the acknowledged count is checked against the store, not against the server's answers.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import duckdb
import httpx
import orjson

from bench.common import (
    PROJECT,
    Context,
    CpuWatch,
    Server,
    log,
    machine,
    now_iso,
    ratio,
    start_baseline,
    start_vigil,
    token,
)
from bench.rawhttp import RawHTTP

__all__ = ["SERIES", "load", "run"]

SERIES = 1_000
POINTS_PER_SERIES = 1_000
BATCH = 5_000
CONNECTIONS = 4
STEP_MS = 10_000
NAME = "bench.metric"

MUTATION = (
    "mutation Ingest($project: String!, $points: PointBatch!) "
    "{ createMetrics(project: $project, points: $points) { accepted } }"
)


def data_range(now_ms: int | None = None) -> tuple[int, int]:
    """First and last timestamp (ms): 1,000 instants 10 s apart, ending a minute ago."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    end = (now_ms - 60_000) // STEP_MS * STEP_MS
    return end - (POINTS_PER_SERIES - 1) * STEP_MS, end


def encode_bodies(start_ms: int) -> list[bytes]:
    """The 200 request bodies, encoded once; only their bytes are kept."""
    tags = [{"series": f"s{s}"} for s in range(SERIES)]
    per_batch = BATCH // SERIES  # instants per batch
    bodies = []
    for first in range(0, POINTS_PER_SERIES, per_batch):
        points: list[dict[str, Any]] = []
        for i in range(first, first + per_batch):
            stamp = start_ms + i * STEP_MS
            for s in range(SERIES):
                value = ((s * 31 + i * 17) % 1000) * 0.1
                points.append({"name": NAME, "value": value, "timestamp": stamp, "tags": tags[s]})
        variables = {"project": PROJECT, "points": points}
        bodies.append(orjson.dumps({"query": MUTATION, "variables": variables}))
    return bodies


def _warmup_body(start_ms: int) -> bytes:
    points = [
        {"name": "bench.warmup", "value": 1.0, "timestamp": start_ms, "tags": {"series": f"w{s}"}}
        for s in range(100)
    ]
    return orjson.dumps({"query": MUTATION, "variables": {"project": PROJECT, "points": points}})


async def drive(
    url: str, bodies: list[bytes], headers: dict[str, str], connections: int = CONNECTIONS
) -> dict[str, Any]:
    """POST every body over `connections` concurrent connections; time until the last ack."""
    accepted = 0
    failures: list[str] = []
    queue = list(reversed(bodies))
    client = RawHTTP(url, headers, connections)
    await client.open()

    async def worker() -> None:
        nonlocal accepted
        while queue:
            body = queue.pop()
            status, content = await client.post(body)
            answer = orjson.loads(content) if content else {}
            receipt = (answer.get("data") or {}).get("createMetrics") or {}
            if status != 200 or "accepted" not in receipt:
                failures.append(f"{status}: {content[:300]!r}")
                continue
            accepted += receipt["accepted"]

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        seconds = time.perf_counter() - started
    finally:
        await client.close()
    return {
        "seconds": round(seconds, 3),
        "requests": len(bodies),
        "points_acknowledged": accepted,
        "points_per_s": round(accepted / seconds) if seconds else None,
        "failures": len(failures),
        "first_failure": failures[0] if failures else None,
    }


async def _post_once(url: str, body: bytes, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(timeout=30.0) as client:
        response = await client.post(
            url, content=body, headers={**headers, "content-type": "application/json"}
        )
        if response.status_code != 200 or b'"errors"' in response.content:
            raise RuntimeError(f"warm-up refused: {response.status_code} {response.text[:500]}")


def stored_points(db: Path) -> int:
    """The benchmark's points in the file, counted by DuckDB itself once the server has
    stopped: the check of what was acknowledged does not rest on the server's answers."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        (count,) = con.execute(
            "SELECT count(*) FROM points p JOIN series s ON p.series_id = s.id "
            "WHERE s.project = $project AND s.name = $name",
            {"project": PROJECT, "name": NAME},
        ).fetchone() or (0,)
    finally:
        con.close()
    return int(count)


def _vigil_run(ctx: Context, bodies: list[bytes], start_ms: int) -> tuple[dict[str, Any], float]:
    db = ctx.tmp / "ingest.duckdb"
    auth = {"authorization": f"Bearer {token(db)}"}
    with start_vigil(db, ctx.tmp) as server:
        asyncio.run(_post_once(f"{server.url}/graphql", _warmup_body(start_ms), auth))
        cpu0, watch = server.cpu_seconds(), CpuWatch([server.pid, os.getpid()])
        result = asyncio.run(drive(f"{server.url}/graphql", bodies, auth))
        result["server_cpu_seconds"] = round(server.cpu_seconds() - cpu0, 3)
        result["cpu"] = watch.stop()
    ctx.db_path = db  # the server has stopped: DuckDB checkpointed the file on close
    result["points_stored"] = stored_points(db)
    return result, db.stat().st_size / 1e6


def load(ctx: Context) -> None:
    """Fill a Vigil store with the 1M points (for `python -m bench query` run alone)."""
    start_ms, end_ms = data_range()
    _vigil_run(ctx, encode_bodies(start_ms), start_ms)
    ctx.data_start_ms, ctx.data_end_ms = start_ms, end_ms


def _baseline_run(server: Server, bodies: list[bytes]) -> dict[str, Any]:
    url = f"{server.url}/ingest"
    asyncio.run(_post_once(url, _warmup_body(0), {}))
    cpu0, watch = server.cpu_seconds(), CpuWatch([server.pid, os.getpid()])
    result = asyncio.run(drive(url, bodies, {}))
    result["server_cpu_seconds"] = round(server.cpu_seconds() - cpu0, 3)
    result["cpu"] = watch.stop()
    return result


def run(ctx: Context) -> dict[str, Any]:
    start_ms, end_ms = data_range()
    encode_started = time.perf_counter()
    bodies = encode_bodies(start_ms)
    log(
        f"ingest: {len(bodies)} bodies, {sum(map(len, bodies)) / 1e6:.0f} MB encoded in "
        f"{time.perf_counter() - encode_started:.1f} s"
    )
    with start_baseline(ctx.tmp) as baseline:
        before = _baseline_run(baseline, bodies)
        log(f"ingest: baseline {before['points_per_s']:,} points/s")
    vigil, size_mb = _vigil_run(ctx, bodies, start_ms)
    log(f"ingest: vigil {vigil['points_per_s']:,} points/s")
    ctx.data_start_ms, ctx.data_end_ms = start_ms, end_ms
    with start_baseline(ctx.tmp) as baseline:
        after = _baseline_run(baseline, bodies)
        log(f"ingest: baseline {after['points_per_s']:,} points/s")

    base_rate = (before["points_per_s"] + after["points_per_s"]) / 2
    rate = vigil["points_per_s"] or 0
    r = ratio(rate, base_rate)
    return {
        "benchmark": "ingest",
        "date": now_iso(),
        "machine": machine(),
        "workload": {
            "points": SERIES * POINTS_PER_SERIES,
            "series": SERIES,
            "batch": BATCH,
            "connections": CONNECTIONS,
            "body_mb": round(sum(map(len, bodies)) / 1e6, 1),
        },
        "vigil": {**vigil, "store_file_mb": round(size_mb, 1)},
        "baseline_runs": [before, after],
        "baseline_points_per_s": round(base_rate),
        "ratio": r,
        "targets": {"ratio_min": 0.6, "points_per_s_min": 300_000},
        "met": {
            "ratio": r is not None and r >= 0.6,
            "points_per_s": rate >= 300_000,
            "all_points_acknowledged": vigil["points_acknowledged"] == SERIES * POINTS_PER_SERIES,
            "all_acknowledged_points_stored": vigil["points_stored"]
            == vigil["points_acknowledged"],
        },
    }
