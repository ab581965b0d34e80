"""Analytics through a real `vigil serve`: a FORECAST job over many series (wall time,
progress), and ingest acknowledgement latency while it runs against an idle server's.

The series go in through `createMetrics`; the job goes through `createAnalyticsJob` and
runs in the server's worker processes (VIGIL_ANALYTICS_WORKERS, default one per core, at
nice 10). After the load the bench waits for the server's background work (the rollup
tiers, rolled up forward, and the first compaction of its partitions) to finish, as a week
of live history would have. Ingest latency:
100-point batches, one every PROBE_PERIOD_S, each acknowledged once durable: IDLE_PROBES
idle, then from the job's creation to its end (reading, computing and writing its results;
each phase's figures apart too), ROUNDS times. Target: p99 within 1.2x of idle, over every
round's samples (each round's ratio is printed too). Progress: a thread reads the job
every POLL_S and notes when its stored progress moves (target: at least every second).

Run alone with `python -m bench.analytics_serving` (VIGIL_BENCH_JOB_SERIES, default 1000,
and VIGIL_BENCH_JOB_POINTS, default 10000, size the job; VIGIL_BENCH_JOB_ROUNDS, default
3, the rounds).
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np
import orjson

from bench.common import Context, log, machine, now_iso, start_vigil, wait_server_idle

__all__ = ["run"]

INGEST = """mutation($points: PointBatch!) {
  createMetrics(project: "bench", points: $points) { accepted } }"""
CREATE = """mutation($job: AnalyticsJobInput!) {
  createAnalyticsJob(project: "bench", job: $job) { id } }"""
JOB = """query($id: ID!) { analyticsJob(project: "bench", id: $id) {
  state progress phase error createdAt startedAt finishedAt duration
  result(first: 1) { total } } }"""
STATE = """query($id: ID!) { analyticsJob(project: "bench", id: $id) { state progress phase } }"""
PROBE_PERIOD_S = 0.05  # a probe starts every 50 ms (2,000 points/s), idle and busy alike
IDLE_PROBES = 1_000  # 50 s: a p99 with ten samples above it
MOST_PROBES = 20_000  # while the job runs: every probe until it ends, reading and writing too
POLL_S = 0.2  # the job poller's period: the resolution of the progress gaps
TARGET_RATIO = 1.2
# Idle probes then a job, this many times in a row; the figures pool every round's samples.
# One round's p99 is its ~6th-worst sample, and the idle one alone swung 15-49 ms between
# runs of the same code: pooled and alternated, drift and flukes fall on both sides alike.
ROUNDS = 3
# A store compacts its closed partitions a minute after it opens (VIGIL_STORE_COMPACTION_
# SECONDS), and the loaded week is a backlog of them: 2-3 s of merges that, left to the
# first round, cost its ingest probes up to 150-220 ms while the job ran. A live store
# compacts an hour at a time as the week arrives; the settle waits past that first pass.
FIRST_COMPACTION_S = 60.0


def _post(http: httpx.Client, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = http.post(
        "/graphql", json={"query": query, "variables": variables}
    ).json()
    if "errors" in body:
        raise RuntimeError(str(body["errors"])[:500])
    data: dict[str, Any] = body["data"]
    return data


def _load(http: httpx.Client, series: int, points: int, end_s: int) -> None:
    rng = np.random.default_rng(11)
    t = np.arange(end_s - points * 60, end_s, 60)
    daily = np.sin(2 * np.pi * (t % 86_400) / 86_400)
    stamps = (t * 1000).tolist()
    for s in range(series):
        values = (50 + 5 * daily + rng.normal(0, 1, len(t))).tolist()
        batch = [
            {"name": "load", "value": v, "timestamp": ts, "tags": {"s": str(s)}}
            for ts, v in zip(stamps, values, strict=True)
        ]
        for start in range(0, len(batch), 10_000):
            _post(http, INGEST, {"points": batch[start : start + 10_000]})
        if s % 100 == 99:
            log(f"analytics serving: loaded {s + 1}/{series} series")


def _probe(
    http: httpx.Client, n: int, until: Any = None, phase: Any = None, phases: Any = None
) -> list[float]:
    """Ack latency (ms) of sequential 100-point batches; stops early when `until()`; each
    sample's `phase()` (the job's, read by the poller) goes to `phases`."""
    latencies = []
    begun = time.perf_counter()
    for i in range(n):
        now_ms = int(time.time() * 1000)
        batch = [
            {"name": "probe", "value": float(j), "timestamp": now_ms, "tags": {"j": str(j)}}
            for j in range(100)
        ]
        started = time.perf_counter()
        _post(http, INGEST, {"points": batch})
        latencies.append((time.perf_counter() - started) * 1000)
        if phases is not None:
            phases.append(phase())
        if until is not None and i % 20 == 0 and until():
            break
        time.sleep(max(0.0, begun + (i + 1) * PROBE_PERIOD_S - time.perf_counter()))
    return latencies


def _settle(server: Any, most: float = 1800.0, not_before: float = 0.0) -> float:
    """Seconds until the server's process used under 0.2 s of CPU over 12 s (longer than a
    rollup pass's interval, so the pause between two passes does not count), or `most`;
    the wait for idle starts at `not_before` (time.monotonic) at the earliest."""
    started = time.monotonic()
    time.sleep(max(0.0, not_before - started))
    wait_server_idle(server, window_s=12.0, cpu_s=0.2, deadline=started + most)
    return time.monotonic() - started


class _Poller(threading.Thread):
    """Reads the job every POLL_S on a connection of its own and notes when its stored
    progress moved while computing: the gaps between moves are measured to within POLL_S
    (plus a query's time), whatever the ingest probe is doing meanwhile."""

    def __init__(self, url: str, headers: dict[str, str], job_id: str, created: float) -> None:
        super().__init__(daemon=True)
        self._url, self._headers, self._job_id = url, headers, job_id
        self.job: dict[str, Any] = {}
        self.moves: list[float] = []  # seconds since `created` at each move
        self.polls = 0
        self.ended = created
        self._created = created

    def run(self) -> None:
        last = None
        with httpx.Client(base_url=self._url, headers=self._headers, timeout=120) as http:
            while True:
                job = _post(http, STATE, {"id": self._job_id})["analyticsJob"]
                now = time.monotonic()
                self.polls += 1
                self.job = job
                if job["phase"] == "computing" and job["progress"] != last:
                    last = job["progress"]
                    self.moves.append(now - self._created)
                if job["state"] not in ("QUEUED", "RUNNING"):
                    self.ended = now
                    self.job = _post(http, JOB, {"id": self._job_id})["analyticsJob"]
                    return
                time.sleep(POLL_S)


def _p(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2)


def run(ctx: Context) -> dict[str, Any]:
    series = int(os.environ.get("VIGIL_BENCH_JOB_SERIES", "1000"))
    points = int(os.environ.get("VIGIL_BENCH_JOB_POINTS", "10000"))
    rounds = int(os.environ.get("VIGIL_BENCH_JOB_ROUNDS", str(ROUNDS)))
    db = ctx.tmp / "analytics.duckdb"
    end_s = int(time.time()) // 60 * 60
    headers = {"Authorization": f"Bearer {_token(db)}"}
    # The week goes in with the rollup runner off, then a server with the defaults rolls it
    # up forward from the oldest point, as it would have as the week arrived live. Loaded
    # with the runner on, the week lands behind the tiers' watermarks and is recomputed as
    # late points: 12-40 minutes of both cores here, a backfill's cost, not the job's.
    with (
        start_vigil(db, ctx.tmp, {"VIGIL_ROLLUP_SECONDS": "0"}) as server,
        httpx.Client(base_url=server.url, headers=headers, timeout=120) as http,
    ):
        log(f"analytics serving: loading {series} series x {points} points")
        started = time.monotonic()
        _load(http, series, points, end_s)
        load_s = time.monotonic() - started
    spec = {
        "metric": "load",
        "groupBy": ["s"],
        "step": "1m",
        "from": _iso(end_s - points * 60),
        "to": _iso(end_s),
        "horizon": "1d",
    }
    with (
        start_vigil(db, ctx.tmp) as server,
        httpx.Client(base_url=server.url, headers=headers, timeout=120) as http,
    ):
        settle_s = _settle(server, not_before=time.monotonic() + FIRST_COMPACTION_S + 1)
        log(f"analytics serving: background work after the load took {settle_s:.0f} s")
        done = []
        for number in range(1, rounds + 1):
            log(f"analytics serving: round {number}/{rounds}: idle, then the job")
            done.append(_round(server.url, http, headers, spec))
        log("analytics serving: pick-up of small jobs on the instance that stored them")
        pickups = _pickups(http, end_s)
    idle = [v for r in done for v in r.idle]
    busy = [v for r in done for v in r.busy]
    phases = [p for r in done for p in r.phases]
    gaps = [g for r in done for g in r.gaps]
    return {
        "benchmark": "analytics_serving",
        "date": now_iso(),
        "machine": machine(),
        "job": {
            "series": series,
            "points_per_series": points,
            "kind": "FORECAST",
            "rounds": rounds,
            "states": [r.job["state"] for r in done],
            "errors": [r.job["error"] for r in done if r.job["error"]],
            "items": [(r.job.get("result") or {}).get("total") for r in done],
            "wall_s": max(r.wall for r in done),
            "wall_s_each": [r.wall for r in done],
            "load_s": round(load_s, 1),
            "settle_s": round(settle_s, 1),
            "progress_poll_s": POLL_S,
            "target_s": 60.0,
        },
        "ingest_latency_ms": {
            "idle": {"p50": _p(idle, 50), "p99": _p(idle, 99), "n": len(idle)},
            "during_job": {"p50": _p(busy, 50), "p99": _p(busy, 99), "n": len(busy)},
            "by_phase": _by_phase(busy, phases),
            "p99_ratio": round(_p(busy, 99) / _p(idle, 99), 2),
            "p99_ratio_each_round": [round(_p(r.busy, 99) / _p(r.idle, 99), 2) for r in done],
            "target_ratio": TARGET_RATIO,
        },
        "progress_gap_s_max": round(max(gaps), 2) if gaps else None,
        "pickup_ms": {"p50": _p(pickups, 50), "max": round(max(pickups), 2), "n": len(pickups)},
    }


@dataclass
class _Round:
    idle: list[float]
    busy: list[float]
    phases: list[str]
    gaps: list[float]
    job: dict[str, Any]
    wall: float


def _round(url: str, http: httpx.Client, headers: dict[str, str], spec: dict[str, Any]) -> _Round:
    """Idle probes, then the job with probes from its creation to its end."""
    idle = _probe(http, IDLE_PROBES)
    job_id = _post(http, CREATE, {"job": {"kind": "FORECAST", "input": spec, "timeout": 3600}})[
        "createAnalyticsJob"
    ]["id"]
    created = time.monotonic()
    poller = _Poller(url, headers, job_id, created)
    poller.start()
    phases: list[str] = []
    busy = _probe(
        http,
        MOST_PROBES,
        until=lambda: poller.ended != created,
        phase=lambda: poller.job.get("phase", "queued"),
        phases=phases,
    )
    poller.join()
    gaps = [b - a for a, b in itertools.pairwise(poller.moves)]
    wall = round(poller.ended - created, 1)
    return _Round(idle, busy, phases, gaps, poller.job, wall)


def _by_phase(latencies: list[float], phases: list[str]) -> dict[str, dict[str, float]]:
    """p50, p99 and the worst of the samples taken in each phase of the job."""
    out = {}
    for name in dict.fromkeys(phases):
        chosen = [v for v, p in zip(latencies, phases, strict=True) if p == name]
        out[name] = {
            "p50": _p(chosen, 50),
            "p99": _p(chosen, 99),
            "max": round(max(chosen), 2),
            "n": len(chosen),
        }
    return out


def _pickups(http: httpx.Client, end_s: int, count: int = 20) -> list[float]:
    """createdAt -> startedAt (ms) of small TREND jobs created one after another."""
    spec = {"metric": "probe", "step": "1m", "from": _iso(end_s - 3600), "to": _iso(end_s + 3600)}
    waits = []
    for _ in range(count):
        job_id = _post(http, CREATE, {"job": {"kind": "TREND", "input": spec}})[
            "createAnalyticsJob"
        ]["id"]
        while (job := _post(http, JOB, {"id": job_id})["analyticsJob"])["startedAt"] is None:
            time.sleep(0.01)
        waits.append((_moment(job["startedAt"]) - _moment(job["createdAt"])) * 1000)
        while _post(http, JOB, {"id": job_id})["analyticsJob"]["state"] == "RUNNING":
            time.sleep(0.01)
    return waits


def _moment(text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _token(db: Any) -> str:
    import subprocess

    from bench.common import PYTHON, ROOT, vigil_env

    out = subprocess.run(
        [
            PYTHON,
            "-m",
            "infra.cli",
            "token",
            "--subject",
            "bench",
            "--project",
            "bench",
            "--role",
            "admin",
        ],
        env=vigil_env(db),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out.stdout.decode().strip()


def _iso(seconds: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def main() -> int:
    ctx = Context.create()
    try:
        result = run(ctx)
    finally:
        ctx.cleanup()
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
