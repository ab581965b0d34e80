"""Storage: Vigil on DuckDB beside VictoriaMetrics, the same data in both, in one run (issue 13).

1. The 1M-point workload of `bench/ingest.py` (1,000 series x 1,000 instants 10 s apart,
   ending a minute ago; values: gauges, see bench/storage_bodies.py), in 5,000-point
   requests over 4 connections: to Vigil through `createMetrics` with one object per point
   (acknowledged after a durable commit), to VictoriaMetrics through
   `/api/v1/import` (acknowledged from memory). Server CPU per point is the server
   process's CPU (all threads) from the first request until it is quiet again (after the
   peer's `/internal/force_flush`); visible-after is the time from the last acknowledgement
   until a query first counts all 1,000 points of series s999 (polled every 10 ms; the
   probes' own CPU, measured afterwards on the quiet server, is taken off the ingest's).
2. The four chart queries of the issue over that data (`bench/query.py`'s a-d), Vigil and
   the peer in turn, medians; the answers compared value by value.
3. RSS of each server process after the ingest and the queries.
4. Disk per point: the peer's data folder after a forced flush and a forced merge; Vigil's
   DuckDB file plus its WAL once the server has compacted its closed partitions (the first
   compaction comes within a minute) and stopped (it checkpoints on close). Vigil
   then starts again on the same file.
5. History, stamped in the past: one series with a point every 5 minutes for a year
   (105,120 points) and 1,000 series with a point every 10 minutes for 30 days (4.32M), to
   Vigil as columnar `createMetrics` batches, to the peer through `/api/v1/import`. Then a
   1-year query of the one series at a 1-hour step (8,760 buckets) and a 30-day query of
   the 1,000 series at a 1-hour step (720 buckets, 1,000 lines). Vigil says which tier
   served each (`MetricSeries.resolution`, "raw" while the schema has no such field); when
   it has one, the bench waits (at most ROLLUP_WAIT_SECONDS) for the tiers to cover it.

Vigil runs with VIGIL_RETENTION_DAYS=400 and VIGIL_RETENTION_RAW_DAYS=400 (a year of raw
history is accepted), retention runs off, the rate limits off and VIGIL_ROLLUP_SECONDS=2
(ignored by a Vigil without tiers); other `VIGIL_*` settings in the environment reach the
server too.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import Any

from bench import ingest
from bench.common import (
    Context,
    Server,
    log,
    machine,
    now_iso,
    start_vigil,
    token,
    wait_server_idle,
)
from bench.peers import (
    IMPORT_PATH,
    force_flush,
    start_victoria,
)
from bench.rawhttp import post_all
from bench.storage_bodies import gauges, peer_bodies, vigil_columnar, vigil_points
from bench.storage_cases import Case
from bench.storage_clients import PeerClient, VigilClient, measure, resolution
from bench.storage_disk import peer_disk, rss_mb, vigil_disk, wait_for_compaction
from bench.storage_table import answers_table, render, rows_of

__all__ = ["run"]

CONNECTIONS = 4
WARMUP, RUNS = 2, 11  # the four queries over the 1M points
HISTORY_WARMUP, HISTORY_RUNS = 1, 7  # the long-range queries
ROLLUP_WAIT_SECONDS = 90.0
PROBE_PAUSE = 0.01  # between visibility probes: their resolution, and their cost bounded
PROBE_COST_RUNS = 50
HOUR = 3_600_000
YEAR_STEP_MS, MONTH_STEP_MS = 300_000, 600_000
HISTORY_BATCH = 20_000  # points per columnar createMetrics (1,000 series x 20 instants)
SERIES = [f"s{s}" for s in range(ingest.SERIES)]
VIGIL_SETTINGS = {
    "VIGIL_RETENTION_DAYS": "400",  # the ceiling of raw retention
    "VIGIL_RETENTION_RAW_DAYS": "400",  # raw points a year old are accepted (default 15)
    "VIGIL_RETENTION_RUN_SECONDS": "0",  # no retention run among the timed queries
    "VIGIL_ROLLUP_SECONDS": "2",  # a rollup pass every 2 s rather than 10 (once tiers exist)
    **{
        f"VIGIL_RATE_{who}_{what}_PER_SECOND": "0"
        for who in ("CALLER", "PROJECT")
        for what in ("OPERATIONS", "POINTS")
    },
}


# -- ingest ------------------------------------------------------------------------------------


def _ingest(
    server: Server,
    path: str,
    bodies: list[bytes],
    headers: dict[str, str],
    *,
    points: int,
    visible: Callable[[], bool] | None = None,
    settle: Callable[[], object] | None = None,
) -> dict[str, Any]:
    cpu0, started = server.cpu_seconds(), time.perf_counter()
    refused = asyncio.run(post_all(f"{server.url}{path}", bodies, headers, CONNECTIONS))
    acked = time.perf_counter()
    out: dict[str, Any] = {"points": points, "seconds": round(acked - started, 3)}
    out["cpu_us_per_point_at_ack"] = round((server.cpu_seconds() - cpu0) / points * 1e6, 3)
    if refused:
        out |= {"refused": len(refused), "first_refusal": refused[0]}
        log(f"storage: {server.name} refused {len(refused)} requests; first: {refused[0]}")
    probes = 0
    if visible is not None:
        probes = 1
        while not visible():
            probes += 1
            if time.perf_counter() - acked > 60:
                raise RuntimeError(f"{server.name}: the last points not visible after 60 s")
            time.sleep(PROBE_PAUSE)
        out["visible_after_ms"] = round((time.perf_counter() - acked) * 1000, 1)
        out["visible_probes"] = probes
    if settle is not None:
        settle()
    cpu = _quiet_cpu(server) - cpu0
    if visible is not None:
        # The probes' own CPU, measured on the quiet server, is not the ingest's.
        before = server.cpu_seconds()
        for _ in range(PROBE_COST_RUNS):
            visible()
        probe_cpu = (server.cpu_seconds() - before) / PROBE_COST_RUNS
        out["probe_cpu_ms"] = round(probe_cpu * 1000, 3)
        cpu -= probes * probe_cpu
    out["cpu_seconds"] = round(cpu, 3)
    out["cpu_us_per_point"] = round(cpu / points * 1e6, 3)
    out["points_per_s"] = round(points / (acked - started))
    return out


def _quiet_cpu(server: Server, most: float = 15.0) -> float:
    """The server's CPU seconds once it has stopped working in the background (merges,
    rollups): less than 10 ms used in half a second, or `most` seconds."""
    deadline, before = time.monotonic() + most, server.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(0.5)
        now = server.cpu_seconds()
        if now - before < 0.01:
            return now
        before = now
    return before


def _visible(client: VigilClient | PeerClient, probe: Case, expected: int) -> Callable[[], bool]:
    def seen() -> bool:
        _, data = client.once(probe)
        return client.answer(probe, data).get((probe.series_tag, 0)) == expected

    return seen


# -- footprint ---------------------------------------------------------------------------------


# -- the run -----------------------------------------------------------------------------------


def run(ctx: Context) -> dict[str, Any]:
    start_ms, end_ms = ingest.data_range()
    end_ms += ingest.STEP_MS  # exclusive
    stamps = list(range(start_ms, end_ms, ingest.STEP_MS))
    log("storage: encoding the 1M points for both servers")
    values = gauges(len(SERIES), len(stamps), seed=13)
    per = ingest.BATCH // len(SERIES)
    vigil_bodies = vigil_points(ingest.NAME, SERIES, stamps, values, per)
    peer_side_bodies = peer_bodies(ingest.NAME, SERIES, stamps, values, ingest.BATCH)
    warm = (SERIES[:100], stamps[:1], gauges(100, 1, seed=1))
    probe = Case("probe", "", ingest.NAME, "COUNT", start_ms, end_ms, lines="one",
                 series_tag=SERIES[-1])  # fmt: skip
    to = int(time.time() * 1000) // HOUR * HOUR - HOUR  # the history's end: an hour ago
    cases = _cases(start_ms, end_ms, to)
    db = ctx.tmp / "storage.duckdb"
    auth = token(db)
    headers = {"authorization": f"Bearer {auth}"}
    result: dict[str, Any] = {"vigil": {}, "victoria_metrics": {}, "cases": {}}
    vigil_side, peer_side = result["vigil"], result["victoria_metrics"]
    points = len(SERIES) * len(stamps)

    peer_server = start_victoria(ctx.tmp, "storage")
    server = start_vigil(db, ctx.tmp, VIGIL_SETTINGS)
    vigil = VigilClient(f"{server.url}/graphql", auth)
    peer = PeerClient(peer_server.url) if peer_server else None
    try:
        vigil_side["at_start"] = rss_mb(server)
        if peer_server:
            peer_side["at_start"] = rss_mb(peer_server)
        warm_bodies = vigil_points("bench.warmup", *warm, 1)
        asyncio.run(post_all(f"{server.url}/graphql", warm_bodies, headers, 1))
        log("storage: ingest into Vigil")
        vigil_side["ingest"] = _ingest(
            server, "/graphql", vigil_bodies, headers, points=points,
            visible=_visible(vigil, probe, len(stamps)))  # fmt: skip
        if peer_server and peer:
            log("storage: ingest into VictoriaMetrics")
            warm_bodies = peer_bodies("bench.warmup", *warm, 100)
            asyncio.run(post_all(f"{peer_server.url}{IMPORT_PATH}", warm_bodies, {}, 1))
            peer_side["ingest"] = _ingest(
                peer_server, IMPORT_PATH, peer_side_bodies, {}, points=points,
                visible=_visible(peer, probe, len(stamps)),
                settle=lambda: force_flush(peer_server))  # fmt: skip
        del vigil_bodies, peer_side_bodies
        vigil_side["after_ingest"] = rss_mb(server)
        if peer_server:
            peer_side["after_ingest"] = rss_mb(peer_server)
        for case in cases[:4]:
            log(f"storage: query {case.key}")
            result["cases"][case.key] = measure(case, vigil, peer, warmup=WARMUP, runs=RUNS)
        vigil_side["after_queries"] = rss_mb(server)
        if peer_server:
            peer_side["after_queries"] = rss_mb(peer_server)
            peer_side["disk"] = peer_disk(peer_server, ctx.tmp, points)
        wait_for_compaction(server)
        vigil.close()
        server.stop()
        vigil_side["disk"] = vigil_disk(db, points)

        server = start_vigil(db, ctx.tmp, VIGIL_SETTINGS)
        vigil = VigilClient(f"{server.url}/graphql", auth)
        _history(result, server, peer_server, headers, to)
        for case in cases[4:]:
            _wait_for_tiers(vigil, server, case)
            log(f"storage: query {case.key}")
            result["cases"][case.key] = measure(
                case, vigil, peer, warmup=HISTORY_WARMUP, runs=HISTORY_RUNS)  # fmt: skip
        vigil_side["at_end"] = rss_mb(server)
        if peer_server:
            peer_side["at_end"] = rss_mb(peer_server)
            total = points + peer_side["history"]["points"]
            peer_side["disk_at_end"] = peer_disk(peer_server, ctx.tmp, total)
    finally:
        vigil.close()
        server.stop()
        if peer:
            peer.close()
        if peer_server:
            peer_server.stop()
    vigil_side["disk_at_end"] = vigil_disk(db, points + vigil_side["history"]["points"])
    return _report(result, cases, peer_server is not None, points)


def _cases(start_ms: int, end_ms: int, to: int) -> list[Case]:
    return [
        Case("a_one_series_avg_1m", "one series, 1-min avg over 2h47", ingest.NAME, "AVG",
             start_ms, end_ms, 60_000, lines="one", target_ms=1.5),
        Case("b_all_series_avg_5m", "all series averaged, 5-min", ingest.NAME, "AVG",
             start_ms, end_ms, 300_000, lines="all", target_ratio=2.0),
        Case("c_max_by_series_10m", "max by tag, 10-min (1,000 lines)", ingest.NAME, "MAX",
             start_ms, end_ms, 600_000, target_ratio=2.0),
        Case("d_last_every_series", "last value of every series", ingest.NAME, "LAST",
             start_ms, end_ms, target_ratio=2.0),
        Case("e_one_series_1y_1h", "one series, 1 year at 1-h step (8,760 buckets)",
             "bench.year", "AVG", to - 8_760 * HOUR, to, HOUR, lines="one", target_ms=20.0),
        Case("f_1000_series_30d_1h", "1,000 series, 30 days at 1-h step (720 x 1,000)",
             "bench.month", "AVG", to - 720 * HOUR, to, HOUR, target_ms=100.0),
    ]  # fmt: skip


def _history(
    result: dict[str, Any],
    server: Server,
    peer_server: Server | None,
    headers: dict[str, str],
    to: int,
) -> None:
    """A year of one series and 30 days of 1,000 series before `to`, into both (CPU
    reported)."""
    year = list(range(to - 8_760 * HOUR, to, YEAR_STEP_MS))
    month = list(range(to - 720 * HOUR, to, MONTH_STEP_MS))
    points = len(year) + len(SERIES) * len(month)
    log(f"storage: history, {points:,} points stamped in the past, into Vigil")
    year_values = gauges(1, len(year), seed=365)
    month_values = gauges(len(SERIES), len(month), seed=30)
    per = HISTORY_BATCH // len(SERIES)
    vigil_bodies = vigil_columnar("bench.year", SERIES[:1], year, year_values, HISTORY_BATCH)
    vigil_bodies += vigil_columnar("bench.month", SERIES, month, month_values, per)
    result["vigil"]["history"] = _ingest(server, "/graphql", vigil_bodies, headers, points=points)
    del vigil_bodies
    if peer_server is None:
        return
    log("storage: history into VictoriaMetrics")
    bodies = peer_bodies("bench.year", SERIES[:1], year, year_values, HISTORY_BATCH)
    bodies += peer_bodies("bench.month", SERIES, month, month_values, HISTORY_BATCH)
    result["victoria_metrics"]["history"] = _ingest(
        peer_server, IMPORT_PATH, bodies, {}, points=points,
        settle=lambda: force_flush(peer_server))  # fmt: skip


def _wait_for_tiers(vigil: VigilClient, server: Server, case: Case) -> None:
    """When the schema has tiers: wait (at most ROLLUP_WAIT_SECONDS) until a tier serves
    the answer, then until the server has been idle for 8 s (longer than a rollup pass's
    interval plus the 5 s a series' late points must stop for before its refresh), so
    that no bucket is still dirty, read from raw points meanwhile."""
    deadline = time.monotonic() + ROLLUP_WAIT_SECONDS
    _, data = vigil.once(case)
    if not vigil.resolution_field:
        return
    while resolution(data) == "raw":
        if time.monotonic() > deadline:
            log(f"storage: {case.key} still served from raw points after the wait")
            return
        time.sleep(2.0)
        _, data = vigil.once(case)
    wait_server_idle(server, window_s=8.0, cpu_s=0.13, deadline=deadline)


def _report(
    result: dict[str, Any], cases: list[Case], with_peer: bool, points: int
) -> dict[str, Any]:
    targets = {c.key: (c.target_ratio, c.target_ms) for c in cases}
    rows = rows_of(result, targets)
    print("\n" + render(rows) + "\n\n" + answers_table(result["cases"]) + "\n", file=sys.stderr)
    return {
        "benchmark": "storage",
        "date": now_iso(),
        "machine": machine(),
        "workload": {
            "points": points,
            "series": len(SERIES),
            "batch": ingest.BATCH,
            "connections": CONNECTIONS,
            "history": f"1 series x 1 year at {YEAR_STEP_MS // 60_000} min + {len(SERIES)}"
            f" series x 30 days at {MONTH_STEP_MS // 60_000} min, stamped in the past",
            "runs": {"queries": RUNS, "history_queries": HISTORY_RUNS},
            "vigil_settings": VIGIL_SETTINGS,
            "victoria_metrics": "acknowledges from memory; CPU counted to quiet after a forced"
            " flush; disk after a forced flush and merge",
            "vigil": "acknowledges after a durable DuckDB commit; disk after the checkpoint on"
            " close",
        },
        **result,
        **({} if with_peer else {"victoria_metrics": "skipped: victoria-metrics is not installed"}),
        "table": [row.as_json() for row in rows],
        "met": {row.figure: row.met for row in rows if row.met is not None},
        "answers_mismatch": {
            k: c["answers"]["mismatches"] for k, c in result["cases"].items() if "answers" in c
        },
    }
