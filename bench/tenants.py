"""Tenants: one project's ingest flood against another project's latency (issue 12, item 8).

A quiet tenant (its own token and project) sends a 10-point `createMetrics` every 20 ms
on one keep-alive connection and notes each answer's latency, in 2 s windows: idle ones
alternating with flooded ones, where a flooding tenant (in a process of its own) sends
5,000-point batches on 8 connections as fast as the answers come back, ignoring
`Retry-After` (a hostile or broken client). Alternating windows put the noise of a shared
machine on both sides alike. The figure is the quiet tenant's p99 under the flood over
its idle p99.

Three configurations in the same run: `protected`, with the defaults but a per-project quota of
20,000 points/s (bursts of 50,000), as a shared server would give its tenants; and
`unprotected`, with rate limits off, no in-flight bounds and no fair commit turns (the
behaviour before issue 12). And `apart`: the quiet tenant on a protected server, the
flood on a second one on the same machine, which measures what the machine's CPU
contention alone does to the quiet tenant (its ratio is the floor the others can reach).
Each reports both p99s, their ratio, and what the flooder got (points stored, answers by
status). Latency is wall-clock on a shared machine: read
`cpu.others_cores` beside it; the ratio is measured within one run.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from bench.common import Context, CpuWatch, log, machine, now_iso, ratio, start_vigil, token
from bench.rawhttp import RawHTTP

__all__ = ["run"]

QUIET_POINTS = 10
QUIET_EVERY_S = 0.02
WINDOWS = 5  # idle and flooded windows, alternating
WINDOW_S = 2.0
FLOOD_BATCH = 5_000
FLOOD_CONNECTIONS = 8
FLOOD_WARMUP_S = 1.0
FLOOD_SETTLE_S = 1.0
FLOOD_NICE = 10
MUTATION = (
    "mutation Ingest($project: String!, $points: PointBatch!) "
    "{ createMetrics(project: $project, points: $points) { accepted } }"
)
PROTECTED = {
    "VIGIL_RATE_PROJECT_POINTS_PER_SECOND": "20000",
    "VIGIL_RATE_PROJECT_POINTS_BURST": "50000",
}
UNPROTECTED = {
    **{f"VIGIL_RATE_{k}_PER_SECOND": "0" for k in ("CALLER_OPERATIONS", "CALLER_POINTS")},
    **{f"VIGIL_RATE_{k}_PER_SECOND": "0" for k in ("PROJECT_OPERATIONS", "PROJECT_POINTS")},
    "VIGIL_INGEST_MAX_INFLIGHT_BYTES": str(2**40),
    "VIGIL_INGEST_MAX_INFLIGHT_REQUESTS": str(10**6),
    "VIGIL_INGEST_MAX_PENDING_POINTS": str(10**9),
    "VIGIL_INGEST_COMMIT_SLOTS": str(10**6),
}


def _body(project: str, size: int, start_ms: int, series: int) -> bytes:
    points = [
        {
            "name": f"{project}.load",
            "value": float(i % 100),
            "timestamp": start_ms + i // series,
            "tags": {"host": f"h{i % series}"},
        }
        for i in range(size)
    ]
    return orjson.dumps({"query": MUTATION, "variables": {"project": project, "points": points}})


async def _quiet(client: RawHTTP, start_ms: int, seconds: float) -> tuple[list[float], int]:
    """One 10-point batch every 20 ms for `seconds`: each answer's latency, and refusals."""
    latencies: list[float] = []
    refused = 0
    deadline = time.perf_counter() + seconds
    n = 0
    while time.perf_counter() < deadline:
        body = _body("quiet", QUIET_POINTS, start_ms + n * 100, QUIET_POINTS)
        sent = time.perf_counter()
        status, content = await client.post(body)
        latencies.append(time.perf_counter() - sent)
        if status != 200 or b'"errors"' in content:
            refused += 1
        n += 1
        await asyncio.sleep(max(0.0, QUIET_EVERY_S - (time.perf_counter() - sent)))
    return latencies, refused


def _summary(latencies: list[float], refused: int) -> dict[str, Any]:
    ms = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "refused": refused,
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
    }


async def _flood(url: str, auth: str, bodies: list[bytes], on: Any, done: Any) -> dict[str, Any]:
    """8 connections sending batches back to back while `on` is set, until `done`."""
    client = RawHTTP(f"{url}/graphql", {"authorization": f"Bearer {auth}"}, FLOOD_CONNECTIONS)
    await client.open()
    statuses: dict[str, int] = {}
    stored = 0

    async def sender(k: int) -> None:
        nonlocal stored
        n = k
        while not done.is_set():
            if not on.is_set():
                await asyncio.sleep(0.01)
                continue
            try:
                status, content = await client.post(bodies[n % len(bodies)])
            except (OSError, asyncio.IncompleteReadError):
                statuses["connection_error"] = statuses.get("connection_error", 0) + 1
                continue
            statuses[str(status)] = statuses.get(str(status), 0) + 1
            if status == 200 and b'"errors"' not in content:
                stored += FLOOD_BATCH
            n += FLOOD_CONNECTIONS

    try:
        await asyncio.gather(*(sender(k) for k in range(FLOOD_CONNECTIONS)))
    finally:
        await client.close()
    return {"answers": statuses, "points_stored": stored}


def _flood_process(url: str, auth: str, start_ms: int, on: Any, done: Any, out: Any) -> None:
    """The flooder in a process of its own, at a lower CPU priority: on one machine its
    client work (8 connections writing 400 KB bodies back to back) would otherwise take
    CPU from the server and the quiet client, which a flooder on another machine does
    not; the server's answers to it are what is measured."""
    os.nice(FLOOD_NICE)
    bodies = [_body("flood", FLOOD_BATCH, start_ms + b * 1000, 500) for b in range(40)]
    out.put("ready")
    out.put(asyncio.run(_flood(url, auth, bodies, on, done)))


async def _measure(url: str, quiet: str, flooder: str, *, flood_url: str = "") -> dict[str, Any]:
    """Idle and flooded windows alternate, so that load from elsewhere on a shared machine
    falls on both alike."""
    now_ms = int(time.time() * 1000)
    spawn = multiprocessing.get_context("spawn")
    on, done, results = spawn.Event(), spawn.Event(), spawn.Queue()
    process = spawn.Process(
        target=_flood_process,
        args=(flood_url or url, flooder, now_ms - 3_000_000, on, done, results),
    )
    process.start()
    client = RawHTTP(f"{url}/graphql", {"authorization": f"Bearer {quiet}"}, 1)
    await client.open()
    idle: tuple[list[float], int] = ([], 0)
    flooded: tuple[list[float], int] = ([], 0)
    try:
        assert await asyncio.to_thread(results.get, True, 60) == "ready"
        await _quiet(client, now_ms - 3_500_000, 1.0)  # warm-up, not measured
        for window in range(WINDOWS):
            start = now_ms - 3_400_000 + window * 100_000
            got = await _quiet(client, start, WINDOW_S)
            idle = (idle[0] + got[0], idle[1] + got[1])
            on.set()
            await asyncio.sleep(FLOOD_WARMUP_S)
            got = await _quiet(client, start + 50_000, WINDOW_S)
            flooded = (flooded[0] + got[0], flooded[1] + got[1])
            on.clear()
            await asyncio.sleep(FLOOD_SETTLE_S)  # the flood's last answers come back
        done.set()
        flood = await asyncio.to_thread(results.get, True, 60)
    finally:
        done.set()
        await client.close()
        process.join(30)
    idle_summary, flood_summary = _summary(*idle), _summary(*flooded)
    return {
        "quiet_idle": idle_summary,
        "quiet_under_flood": flood_summary,
        "p99_ratio": ratio(flood_summary["p99_ms"], idle_summary["p99_ms"]),
        "flooder": flood,
    }


def _server_run(
    ctx: Context, name: str, env: dict[str, str], *, apart: bool = False
) -> dict[str, Any]:
    """Both tenants on one server with `env`; `apart`: the flood goes to a second server
    (same settings, same machine), which leaves only the machine's share of the effect."""
    db: Path = ctx.tmp / f"tenants-{name}.duckdb"
    with contextlib.ExitStack() as servers:
        server = servers.enter_context(start_vigil(db, ctx.tmp, env))
        flood_server, flood_db = server, db
        if apart:
            flood_db = ctx.tmp / f"tenants-{name}-flood.duckdb"
            flood_server = servers.enter_context(start_vigil(flood_db, ctx.tmp, env))
        quiet = token(db, "collector", subject="quiet-tenant", project="quiet")
        flooder = token(flood_db, "collector", subject="flood-tenant", project="flood")
        watch = CpuWatch([server.pid])
        result = asyncio.run(_measure(server.url, quiet, flooder, flood_url=flood_server.url))
        result["cpu"] = watch.stop()
    log(
        f"tenants/{name}: quiet p99 idle {result['quiet_idle']['p99_ms']} ms, under flood "
        f"{result['quiet_under_flood']['p99_ms']} ms (x{result['p99_ratio']}); "
        f"flooder {result['flooder']['answers']}"
    )
    return result


def run(ctx: Context) -> dict[str, Any]:
    protected = _server_run(ctx, "protected", PROTECTED)
    apart = _server_run(ctx, "apart", PROTECTED, apart=True)
    unprotected = _server_run(ctx, "unprotected", UNPROTECTED)
    return {
        "benchmark": "tenants",
        "date": now_iso(),
        "machine": machine(),
        "workload": {
            "quiet": f"{QUIET_POINTS}-point createMetrics every {QUIET_EVERY_S * 1000:g} ms",
            "flood": f"{FLOOD_BATCH}-point batches on {FLOOD_CONNECTIONS} connections",
            "windows": f"{WINDOWS} idle and {WINDOWS} flooded, {WINDOW_S:g} s each, alternating",
            "protected_env": PROTECTED,
        },
        "protected": protected,
        "apart": apart,
        "unprotected": unprotected,
        "quiet_p99_ratio_protected": protected["p99_ratio"],
        "quiet_p99_ratio_apart": apart["p99_ratio"],
        "quiet_p99_ratio_unprotected": unprotected["p99_ratio"],
    }
