"""Collectors: server CPU per point and per request, Vigil against VictoriaMetrics.

The same 1M points (1,000 series x 1,000 instants 10 s apart, ending a minute ago) go
through Prometheus remote-write 1.0 (snappy protobuf, one sample per TimeSeries as
Prometheus sends them) and InfluxDB line protocol, in 5,000-point requests over 4
connections, to Vigil (`vigil serve`, DuckDB, acknowledged after a durable commit) and to
Debian `victoria-metrics` (acknowledged from memory; its CPU is counted until the last
answer plus a forced flush) in the same run. Then small requests (1, 10 and 100 points,
8 concurrent senders): server CPU per request and the request rate one core sustains.
Small requests carry points of the moment they are sent, each (series, timestamp) once,
as agents send them; a stored point sent again (a retry) is the careful path, not this.
Every measurement starts once the server is idle (`settle_before`), and each phase that
carries the 2.8 hours of history (each bulk protocol, the columnar batches) runs on a
fresh store: a store whose roll-ups have passed those hours takes them as late points
(dirty marks, recomputed buckets), so the second protocol paid for the first (line
protocol measured 6.6 us/point after remote-write, 4.4 on its own store).
Then `createMetrics` with columnar batches (series entries with arrays) on Vigil.
Reported beside the targets: remote-write of 1M points in Prometheus's own shape, a sample
per series per request (5,000 series x 200 instants), on both servers.

Figures are server CPU time (user + system, all threads) read from /proc before and after,
so they hold on a shared machine better than wall-clock rates; `cpu.others_cores` says
how busy the rest of the machine was meanwhile.
"""

from __future__ import annotations

import asyncio
import os
import time
from functools import partial
from typing import Any

from bench.collector_bodies import (
    columnar_bodies,
    line_bodies,
    remote_write_bodies,
)
from bench.common import (
    Context,
    CpuWatch,
    Server,
    log,
    machine,
    now_iso,
    ratio,
    start_vigil,
    thread_cpu,
    token,
    wait_server_idle,
)
from bench.peers import force_flush, start_victoria
from bench.rawhttp import post_all

__all__ = ["run"]

SERIES = 1_000
INSTANTS = 1_000
BATCH = 5_000  # points per request: 5 instants of every series
CONNECTIONS = 4
SMALL = (1, 10, 100)
SMALL_SENDERS = 8
SMALL_REQUESTS = {1: 2_000, 10: 2_000, 100: 1_000}
# Reported beside the targets: Prometheus's own shape, a sample per series per request
# (5,000 series x 200 instants), where per-series work counts as much as per-point work.
WIDE_SERIES = 5_000
STEP_MS = 10_000

RW_HEADERS = {
    "content-type": "application/x-protobuf",
    "content-encoding": "snappy",
    "x-prometheus-remote-write-version": "0.1.0",
}
LP_HEADERS = {"content-type": "text/plain; charset=utf-8"}


# -- driving -----------------------------------------------------------------------------------


async def _drive(url: str, bodies: list[bytes], headers: dict[str, str], senders: int) -> int:
    """POST every body over `senders` connections; the number of refusals."""
    refused = await post_all(url, bodies, headers, senders)
    if refused:
        log(f"collectors: {len(refused)} refused, first: {refused[0]}")
    return len(refused)


def _wait_idle(server: Server) -> dict[str, Any]:
    """Wait for the server's background work to end; what it cost."""
    cpu0, started = server.cpu_seconds(), time.perf_counter()
    idle = wait_server_idle(server, window_s=2.0, cpu_s=0.06, deadline=time.monotonic() + 180)
    return {
        "idle": idle,
        "seconds": round(time.perf_counter() - started, 1),
        "server_cpu_seconds": round(server.cpu_seconds() - cpu0, 2),
    }


def measure(
    server: Server,
    path: str,
    bodies: list[bytes],
    headers: dict[str, str],
    *,
    points: int,
    senders: int,
    settle: Any = None,
) -> dict[str, Any]:
    """Wait for an idle server, warm up on the first body (untimed), then send the rest
    and read the server's CPU."""
    url = f"{server.url}{path}"
    before = _wait_idle(server)
    asyncio.run(_drive(url, bodies[:1], headers, 1))
    timed = bodies[1:]
    cpu0, watch, started = server.cpu_seconds(), CpuWatch([server.pid]), time.perf_counter()
    threads0 = thread_cpu(server.pid)
    refused = asyncio.run(_drive(url, timed, headers, senders))
    if settle is not None:
        settle()
    seconds = time.perf_counter() - started
    cpu = server.cpu_seconds() - cpu0
    by_thread = {
        name: round((spent - threads0.get(name, 0.0)) / len(timed) * 1e6, 1)
        for name, spent in thread_cpu(server.pid).items()
        if spent - threads0.get(name, 0.0) > 0
    }
    timed_points = points * len(timed) // len(bodies)
    return {
        "requests": len(timed),
        "points": timed_points,
        "refused": refused,
        "seconds": round(seconds, 3),
        "server_cpu_seconds": round(cpu, 3),
        "cpu_us_per_point": round(cpu / timed_points * 1e6, 3),
        "cpu_us_per_request": round(cpu / len(timed) * 1e6, 1),
        # Where a request's CPU went, by thread (Vigil's: "main" is the event loop; the
        # DuckDB writer's follows it under waiting senders, decision 0042).
        "cpu_us_per_request_by_thread": by_thread,
        "requests_per_core_second": round(len(timed) / cpu) if cpu else None,
        "points_per_s": round(timed_points / seconds),
        "cpu": watch.stop(),
        "settle_before": before,
    }


# -- the run -----------------------------------------------------------------------------------


def run(ctx: Context) -> dict[str, Any]:
    now_ms = int(time.time() * 1000)
    end = (now_ms - 60_000) // STEP_MS * STEP_MS
    instants = [end - (INSTANTS - 1 - i) * STEP_MS for i in range(INSTANTS)]
    started = time.perf_counter()
    series = range(SERIES)
    bulk = {
        "remote_write": (remote_write_bodies("bench_rw", series, instants, BATCH), RW_HEADERS,
                         "/api/v1/write"),
        "line_protocol": (line_bodies("bench_lp", series, instants, BATCH), LP_HEADERS,
                          "/write?db=bench"),
        "wide_remote_write": (
            remote_write_bodies("bench_rw_wide", range(WIDE_SERIES),
                                instants[-(SERIES * INSTANTS // WIDE_SERIES):], BATCH),
            RW_HEADERS, "/api/v1/write"),
    }  # fmt: skip
    small = {
        f"{kind}_{size}": (kind, size, headers, path)
        for size in SMALL
        for kind, headers, path in (
            ("remote_write", RW_HEADERS, "/api/v1/write"),
            ("line_protocol", LP_HEADERS, "/write?db=bench"),
        )
    }
    columnar = columnar_bodies("bench.columnar", instants, BATCH // SERIES)
    log(f"collectors: bodies encoded in {time.perf_counter() - started:.1f} s")

    results: dict[str, Any] = {"vigil": {}, "victoria_metrics": {}}
    db = ctx.tmp / "collectors.duckdb"  # the tokens' secret sits beside it, shared by all
    collector = {"authorization": f"Bearer {token(db, role='collector')}"}
    admin = {"authorization": f"Bearer {token(db, role='admin')}"}
    victoria = start_victoria(ctx.tmp, "collectors")
    vigil_results = results["vigil"]
    try:
        for name, (bodies, headers, path) in bulk.items():
            with start_vigil(ctx.tmp / f"collectors-{name}.duckdb", ctx.tmp) as vigil:
                vigil_results[name] = measure(
                    vigil, path, bodies, headers | collector, points=len(bodies) * BATCH,
                    senders=CONNECTIONS)  # fmt: skip
            log(f"collectors: vigil {name}: {vigil_results[name]['cpu_us_per_point']} us/point")
        with start_vigil(ctx.tmp / "collectors-small.duckdb", ctx.tmp) as vigil:
            for name, (kind, size, headers, path) in small.items():
                bodies = _small_bodies(kind, size)
                vigil_results[name] = measure(
                    vigil, path, bodies, headers | collector, points=len(bodies) * size,
                    senders=SMALL_SENDERS)  # fmt: skip
                log(f"collectors: vigil {name}: "
                    f"{vigil_results[name]['cpu_us_per_request']} us/request")  # fmt: skip
        with start_vigil(ctx.tmp / "collectors-columnar.duckdb", ctx.tmp) as vigil:
            vigil_results["create_metrics_columnar"] = measure(
                vigil, "/graphql", columnar, {"content-type": "application/json"} | admin,
                points=SERIES * INSTANTS, senders=CONNECTIONS)  # fmt: skip
        if victoria is not None:
            flush = partial(force_flush, victoria)
            for name, (bodies, headers, path) in bulk.items():
                results["victoria_metrics"][name] = measure(
                    victoria, path, bodies, headers, points=len(bodies) * BATCH,
                    senders=CONNECTIONS, settle=flush)  # fmt: skip
            for name, (kind, size, headers, path) in small.items():
                bodies = _small_bodies(kind, size)
                results["victoria_metrics"][name] = measure(
                    victoria, path, bodies, headers, points=len(bodies) * size,
                    senders=SMALL_SENDERS, settle=flush)  # fmt: skip
    finally:
        if victoria is not None:
            victoria.stop()
    return _report(results)


def _small_bodies(kind: str, size: int) -> list[bytes]:
    """Requests of `size` series each, one instant apiece 1 ms apart, ending just before
    now: points of the moment, each (series, timestamp) once."""
    count = SMALL_REQUESTS[size]
    end = int(time.time() * 1000) - 1_000
    stamps = [end - count + i for i in range(count)]
    encode = remote_write_bodies if kind == "remote_write" else line_bodies
    return encode(f"small_{kind}_{size}", range(size), stamps, size)


def _report(results: dict[str, Any]) -> dict[str, Any]:
    vigil, vm = results["vigil"], results["victoria_metrics"]
    ratios: dict[str, Any] = {}
    met: dict[str, Any] = {}
    if "wide_remote_write" in vm:  # reported, not a target
        ratios["wide_remote_write_cpu_per_point"] = ratio(
            vigil["wide_remote_write"]["cpu_us_per_point"],
            vm["wide_remote_write"]["cpu_us_per_point"],
        )
    for name in ("remote_write", "line_protocol"):
        if name in vm:
            ratios[f"{name}_cpu_per_point"] = ratio(
                vigil[name]["cpu_us_per_point"], vm[name]["cpu_us_per_point"]
            )
            met[f"{name}_at_most_2x"] = (ratios[f"{name}_cpu_per_point"] or 99) <= 2
    if "remote_write" in vm:
        best = min(vm[n]["cpu_us_per_point"] for n in ("remote_write", "line_protocol"))
        ratios["create_metrics_columnar_cpu_per_point"] = ratio(
            vigil["create_metrics_columnar"]["cpu_us_per_point"], best
        )
        met["create_metrics_columnar_at_most_2x"] = (
            ratios["create_metrics_columnar_cpu_per_point"] or 99
        ) <= 2
    for key, figures in vigil.items():
        if key.startswith(("remote_write_", "line_protocol_")):
            met[f"{key}_at_most_1ms"] = figures["cpu_us_per_request"] <= 1000
            if key in vm:
                ratios[f"{key}_requests_per_core"] = ratio(
                    figures["requests_per_core_second"] or 0,
                    vm[key]["requests_per_core_second"] or 0,
                )
    return {
        "benchmark": "collectors",
        "date": now_iso(),
        "machine": machine(),
        "workload": {
            "points": SERIES * INSTANTS,
            "series": SERIES,
            "wide_series": WIDE_SERIES,
            "batch": BATCH,
            "connections": CONNECTIONS,
            "small_senders": SMALL_SENDERS,
            "small_requests": {str(k): v for k, v in SMALL_REQUESTS.items()},
            "victoria_metrics": "acknowledges from memory; CPU counted to the last answer"
            " plus a forced flush",
            "vigil": "acknowledges after a durable DuckDB commit",
        },
        "vigil": vigil,
        "victoria_metrics": vm or "skipped: victoria-metrics is not installed",
        "ratios": ratios,
        "met": met,
        "pid": os.getpid(),
    }
