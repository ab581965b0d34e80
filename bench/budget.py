"""Budget: another project's simple query while one caller sends eight heavy ones.

Issue 12 (item 3) measured another project's simple query at 5.4 s while eight heavy
series queries ran. Here one caller (project `bench`) keeps eight exact P99 reads over
20M points going (each sent again as soon as it is answered; a refusal, `RATE_LIMITED`,
is retried after 0.1 s as a polite client would), while a second caller (project
`other`) asks for a ten-point series once every 0.2 s. Two servers on the same store, one
after the other:

  capped:    the defaults (VIGIL_QUERY_MAX_HEAVY_PER_CALLER=2, timeout 30 s);
  uncapped:  VIGIL_QUERY_MAX_HEAVY_PER_CALLER=1000, VIGIL_QUERY_TIMEOUT_SECONDS=600,
             the behaviour before the budget.

Each reports the other caller's median and p90 latency idle and under the load, and their
ratio (loaded / idle), all measured in the same run.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import httpx

from bench.common import (
    PROJECT,
    SECRET,
    Context,
    CpuWatch,
    log,
    machine,
    median,
    now_iso,
    ratio,
    start_vigil,
)
from infra.auth import LocalTokens
from infra.stores.duckdb.migrations import migrate

__all__ = ["run"]

POINTS = 20_000_000
HEAVY = 8
SAMPLES = 12
SERIES = """query($p: String!, $n: String!, $from: DateTime, $to: DateTime, $a: Aggregation!) {
  metricSeries(project: $p, name: $n, from: $from, to: $to, aggregation: $a) {
    series { values } } }"""
SETUPS = {
    "capped": {},
    "uncapped": {
        "VIGIL_QUERY_MAX_HEAVY_PER_CALLER": "1000",
        "VIGIL_QUERY_TIMEOUT_SECONDS": "600",
    },
}


def _write_store(path: Path) -> tuple[int, int]:
    """`heavy` in project `bench` (POINTS points, 1 ms apart, ending a minute ago) and
    `light` in project `other` (ten points); returns the range in epoch milliseconds."""
    end_ms = (int(time.time()) - 60) * 1000
    first_ms = end_ms - POINTS
    con = duckdb.connect(str(path))
    try:
        con.execute("SET enable_progress_bar = false")
        migrate(con)
        con.execute(
            "INSERT INTO series VALUES ($a, 1, 'heavy', MAP {'host': 'a'}, 'gauge', '', '', "
            "now()::TIMESTAMP), ('other', 2, 'light', MAP {'host': 'a'}, 'gauge', '', '', "
            "now()::TIMESTAMP)",
            {"a": PROJECT},
        )
        con.execute(
            "INSERT INTO points_hot SELECT 1, make_timestamp(($first + i) * 1000), random() "
            "FROM range($n) t(i)",
            {"first": first_ms, "n": POINTS},
        )
        con.execute(
            "INSERT INTO points_hot SELECT 2, make_timestamp(($first + i) * 1000), i "
            "FROM range(10) t(i)",
            {"first": first_ms},
        )
    finally:
        con.close()
    return first_ms, end_ms + 1


def _token(subject: str, project: str) -> str:
    tokens = LocalTokens(SECRET.encode())
    return tokens.issue(subject=subject, projects={project: "viewer"}, ttl_seconds=3600)


async def _measure(url: str, start_ms: int, end_ms: int) -> dict[str, Any]:
    heavy_auth = {"Authorization": f"Bearer {_token('heavy-caller', PROJECT)}"}
    other_auth = {"Authorization": f"Bearer {_token('other-caller', 'other')}"}
    window = {"from": _iso(start_ms), "to": _iso(end_ms)}
    heavy = {"query": SERIES, "variables": {"p": PROJECT, "n": "heavy", "a": "P99", **window}}
    light = {"query": SERIES, "variables": {"p": "other", "n": "light", "a": "AVG", **window}}
    counts = {"answered": 0, "rate_limited": 0, "timeout": 0}
    async with httpx.AsyncClient(base_url=url, timeout=900) as http:

        async def simple() -> float:
            started = time.perf_counter()
            body = (await http.post("/graphql", json=light, headers=other_auth)).json()
            assert "errors" not in body, body
            return time.perf_counter() - started

        async def samples() -> list[float]:
            seen = []
            for _ in range(SAMPLES):
                seen.append(await simple())
                await asyncio.sleep(0.2)
            return seen

        async def heavy_loop(stop: asyncio.Event) -> None:
            while not stop.is_set():
                body = (await http.post("/graphql", json=heavy, headers=heavy_auth)).json()
                code = (body.get("errors") or [{}])[0].get("extensions", {}).get("code")
                if code == "RATE_LIMITED":
                    counts["rate_limited"] += 1
                    await asyncio.sleep(0.1)
                elif code == "TIMEOUT":
                    counts["timeout"] += 1
                else:
                    counts["answered"] += 1

        await simple()  # warm-up
        idle = await samples()
        stop = asyncio.Event()
        loops = [asyncio.create_task(heavy_loop(stop)) for _ in range(HEAVY)]
        await asyncio.sleep(2.0)  # the heavy reads are under way
        loaded = await samples()
        stop.set()
        await asyncio.gather(*loops)
    return {"idle": idle, "loaded": loaded, "heavy": counts}


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def run(ctx: Context) -> dict[str, Any]:
    store = ctx.tmp / "budget.duckdb"
    for stale in (store, store.with_name("budget.duckdb.wal")):
        stale.unlink(missing_ok=True)
    log(f"budget: writing {POINTS:,} points")
    start_ms, end_ms = _write_store(store)
    results: dict[str, Any] = {}
    for name, extra in SETUPS.items():
        with start_vigil(store, ctx.tmp, extra) as server:
            log(f"budget: {name} (pid {server.pid})")
            watch = CpuWatch([server.pid])
            seen = asyncio.run(_measure(server.url, start_ms, end_ms))
            cpu = watch.stop()
        idle, loaded = median(seen["idle"]), median(seen["loaded"])
        results[name] = {
            "other_idle_median_ms": round(idle * 1000, 1),
            "other_idle_p90_ms": round(_p90(seen["idle"]) * 1000, 1),
            "other_loaded_median_ms": round(loaded * 1000, 1),
            "other_loaded_p90_ms": round(_p90(seen["loaded"]) * 1000, 1),
            "loaded_over_idle_median": ratio(loaded, idle),
            "loaded_over_idle_p90": ratio(_p90(seen["loaded"]), _p90(seen["idle"])),
            "heavy_caller": seen["heavy"],
            "cpu": cpu,
        }
    capped, uncapped = results["capped"], results["uncapped"]
    return {
        "benchmark": "budget",
        "at": now_iso(),
        "machine": {**machine(), "pid": os.getpid()},
        "points": POINTS,
        "heavy_queries": HEAVY,
        **results,
        "uncapped_over_capped_loaded_median": ratio(
            uncapped["other_loaded_median_ms"], capped["other_loaded_median_ms"]
        ),
    }
