"""Memory: where a Vigil server's resident memory goes over the storage bench's workload
(issue 13), in about a minute per variant.

Each variant is a fresh `vigil serve` (with bench/memory_probe.py inside) on its own
DuckDB file: the 1M points of bench/storage.py (1,000 series x 1,000 instants, one object
per point, 5,000-point `createMetrics` over 4 connections), then its queries a-d (2
warm-ups, 11 runs each, medians). RSS is read at start, after the ingest and after the
queries, with the probe's breakdown (kernel, glibc malloc, DuckDB's buffer manager) and
the child processes' RSS, PSS and USS (forked workers share pages: RSS counts them once
per process, PSS splits them). Variants run one after the other in the same run, so
their ingest CPU and query times compare as ratios to the first.

`BENCH_MEMORY_VARIANTS` chooses them: `name:K=V,K=V;name2:K=V` (settings added to the
server's environment; `name:` alone adds none). Default: VARIANTS below.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path
from typing import Any

import orjson
import psutil

from bench import ingest
from bench.common import PYTHON, Context, Server, log, machine, now_iso, token, vigil_env
from bench.common import _spawn as spawn
from bench.rawhttp import post_all
from bench.storage import CONNECTIONS, SERIES, VIGIL_SETTINGS, _quiet_cpu
from bench.storage_bodies import gauges, vigil_points
from bench.storage_cases import Case
from bench.storage_clients import VigilClient

__all__ = ["run"]

WARMUP, RUNS = 2, 11
# What each variant adds to the storage bench's settings (and to VIGIL_* variables of the
# environment): by default, the defaults, then DuckDB's own memory limit (80% of RAM) and
# analytics workers started at the first analysis, for their ratios to the defaults.
VARIANTS: dict[str, dict[str, str]] = {
    "defaults": {},
    "duckdb_own_memory_limit": {"VIGIL_STORE_MEMORY_LIMIT_MB": "0"},
    "lazy_analytics_workers": {"VIGIL_ANALYTICS_WORKERS_LAZY": "true"},
}


def _variants() -> dict[str, dict[str, str]]:
    text = os.environ.get("BENCH_MEMORY_VARIANTS", "")
    if not text:
        return VARIANTS
    out: dict[str, dict[str, str]] = {}
    for part in text.split(";"):
        name, _, settings = part.partition(":")
        pairs = [item.partition("=") for item in settings.split(",") if item]
        out[name.strip()] = {k.strip(): v.strip() for k, _, v in pairs}
    return out


def _children(server: Server) -> dict[str, float]:
    rss = pss = uss = 0
    for child in psutil.Process(server.pid).children(recursive=True):
        try:
            full = child.memory_full_info()
        except psutil.Error:
            continue
        rss, pss, uss = rss + full.rss, pss + full.pss, uss + full.uss
    return {
        "count": len(psutil.Process(server.pid).children(recursive=True)),
        "rss_mb": round(rss / 1e6, 1),
        "pss_mb": round(pss / 1e6, 1),
        "uss_mb": round(uss / 1e6, 1),
    }


def _probe(server: Server, out: Path, *, trim: bool = False) -> dict[str, Any]:
    """The server's own report (bench/memory_probe.py), plus its children's memory."""
    before = set(out.parent.glob(out.name + ".*.json"))
    server.process.send_signal(signal.SIGUSR2 if trim else signal.SIGUSR1)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        new = set(out.parent.glob(out.name + ".*.json")) - before
        if new:
            time.sleep(0.05)  # written in one call; let it finish
            report: dict[str, Any] = orjson.loads(new.pop().read_bytes())
            report["rss_mb"] = round(psutil.Process(server.pid).memory_info().rss / 1e6, 1)
            report["children"] = _children(server)
            return report
        time.sleep(0.05)
    raise RuntimeError(f"no memory report from pid {server.pid}; see {server.log_path}")


def _one(
    ctx: Context, name: str, extra: dict[str, str], bodies: list[bytes], span: tuple[int, int]
) -> dict[str, Any]:
    folder = ctx.tmp / f"memory-{name}"
    folder.mkdir()
    db = folder / "vigil.duckdb"
    out = folder / "probe"
    auth = token(db)
    env = {**vigil_env(db), **VIGIL_SETTINGS, **extra, "VIGIL_BENCH_PROBE_OUT": str(out)}
    server = spawn("vigil", [PYTHON, "-m", "bench.memory_probe", "serve"], env, folder)
    server.wait_ready("/readyz")
    log(f"memory: {name} serving on port {server.port} (pid {server.pid})")
    result: dict[str, Any] = {"settings": extra}
    try:
        time.sleep(3)  # background start-up (worker pools) settles
        result["at_start"] = _probe(server, out)
        headers = {"authorization": f"Bearer {auth}"}
        cpu0, started = server.cpu_seconds(), time.perf_counter()
        refused = asyncio.run(post_all(f"{server.url}/graphql", bodies, headers, CONNECTIONS))
        seconds = time.perf_counter() - started
        if refused:
            raise RuntimeError(f"{name}: {len(refused)} refused; first: {refused[0]}")
        cpu = _quiet_cpu(server) - cpu0
        points = len(SERIES) * ingest.POINTS_PER_SERIES
        result["ingest"] = {
            "seconds": round(seconds, 3),
            "cpu_us_per_point": round(cpu / points * 1e6, 3),
        }
        result["after_ingest"] = _probe(server, out)
        client = VigilClient(f"{server.url}/graphql", auth)
        queries: dict[str, float] = {}
        try:
            for case in _cases(*span):
                for _ in range(WARMUP):
                    client.once(case)
                times = sorted(client.once(case)[0] for _ in range(RUNS))
                queries[case.key] = round(times[RUNS // 2], 2)
        finally:
            client.close()
        result["query_ms"] = queries
        result["after_queries"] = _probe(server, out)
        result["after_trim"] = _probe(server, out, trim=True)
    finally:
        server.stop()
    return result


def _cases(start_ms: int, end_ms: int) -> list[Case]:
    return [
        Case("a", "", ingest.NAME, "AVG", start_ms, end_ms, 60_000, lines="one"),
        Case("b", "", ingest.NAME, "AVG", start_ms, end_ms, 300_000, lines="all"),
        Case("c", "", ingest.NAME, "MAX", start_ms, end_ms, 600_000),
        Case("d", "", ingest.NAME, "LAST", start_ms, end_ms),
    ]


def _summary(name: str, r: dict[str, Any], first: dict[str, Any]) -> str:
    def mb(stage: str) -> str:
        return f"{r[stage]['rss_mb']:.0f}"

    kids = r["after_queries"]["children"]
    ingest_ratio = r["ingest"]["cpu_us_per_point"] / first["ingest"]["cpu_us_per_point"]
    query_ratios = [r["query_ms"][k] / first["query_ms"][k] for k in r["query_ms"]]
    return (
        f"| {name} | {mb('at_start')} | {mb('after_ingest')} | {mb('after_queries')} | "
        f"{mb('after_trim')} | {kids['rss_mb']:.0f} / {kids['pss_mb']:.0f} | "
        f"{r['ingest']['cpu_us_per_point']:.2f} us ({ingest_ratio:.2f}x) | "
        + " / ".join(f"{r['query_ms'][k]:.1f}" for k in r["query_ms"])
        + f" ({min(query_ratios):.2f}-{max(query_ratios):.2f}x) |"
    )


def run(ctx: Context) -> dict[str, Any]:
    start_ms, end_ms = ingest.data_range()
    end_ms += ingest.STEP_MS  # exclusive
    stamps = list(range(start_ms, end_ms, ingest.STEP_MS))
    values = gauges(len(SERIES), len(stamps), seed=13)
    bodies = vigil_points(ingest.NAME, SERIES, stamps, values, ingest.BATCH // len(SERIES))
    variants = _variants()
    results: dict[str, Any] = {}
    for name, extra in variants.items():
        results[name] = _one(ctx, name, extra, bodies, (start_ms, end_ms))
    first = next(iter(results.values()))
    lines = [
        "| variant | RSS at start | after ingest | after queries | after malloc_trim | "
        "children RSS / PSS | ingest CPU per point | queries a / b / c / d ms |",
        "|---|---|---|---|---|---|---|---|",
        *(_summary(name, r, first) for name, r in results.items()),
    ]
    log("memory:\n" + "\n".join(lines))
    return {
        "benchmark": "memory",
        "date": now_iso(),
        "machine": machine(),
        "variants": results,
    }
