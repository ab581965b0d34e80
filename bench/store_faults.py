"""A full disk under `vigil serve` (DuckDB on a 64 MiB tmpfs): how long recovery takes.

In one run (root: the benchmark mounts the tmpfs; otherwise it says why it cannot run):
100k points are stored, a filler file leaves 1 MiB free, batches are sent (a checkpoint
every 256 KiB of log, so one fails and DuckDB invalidates the database) until three in a
row are refused; then the filler is deleted. Reported: the in-process reopens the server
logged, the time from freeing space to the first write taken, the time a kill -9 and a
restart take to the first write taken (the alternative decision 0023 rejected), their
ratio, and whether every acknowledged point is stored.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import PROJECT, Context, log, spawn_vigil, token, vigil_env

CREATE = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted } }"""
COUNT = """query($p: String!) { metricSeries(project: $p, name: "bench.disk",
  from: "2000-01-01T00:00:00Z", aggregation: COUNT) { series { values } } }"""
BATCH = 1_000
LOADED_BATCHES = 100


class _Client:
    def __init__(self, url: str, auth: str) -> None:
        self.url, self.auth = url, auth
        self.sent = self.acked = 0
        self.start_ms = int(time.time() * 1000) - 86_400_000

    def send(self) -> bool:
        first = self.start_ms + self.sent * BATCH
        points = [
            {"name": "bench.disk", "value": float(i), "timestamp": first + i} for i in range(BATCH)
        ]
        self.sent += 1
        try:
            answer = self._post(CREATE, {"p": PROJECT, "points": points})
        except httpx.HTTPError:
            return False
        if answer.get("errors"):
            return False
        self.acked += BATCH
        return True

    def stored(self) -> int:
        series = self._post(COUNT, {"p": PROJECT})["data"]["metricSeries"]["series"]
        return int(series[0]["values"][0]) if series else 0

    def _post(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.auth}"},
            timeout=30,
        )
        body: dict[str, Any] = response.json()
        return body

    def until_taken(self, limit: float = 120.0) -> float:
        started = time.monotonic()
        while not self.send():
            if time.monotonic() - started > limit:
                raise RuntimeError(f"no write taken within {limit} s")
            time.sleep(0.01)
        return time.monotonic() - started


def run(ctx: Context) -> dict[str, Any]:
    disk = ctx.tmp / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        return {"benchmark": "store_faults", "error": f"cannot mount a tmpfs: {mounted.stderr}"}
    try:
        return _run(ctx, disk)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _run(ctx: Context, disk: Path) -> dict[str, Any]:
    db_path = disk / "vigil.duckdb"
    env = {**vigil_env(db_path), "VIGIL_STORE_CHECKPOINT_BYTES": str(256 * 1024)}
    server = spawn_vigil(env, ctx.tmp)
    try:
        server.wait_ready("/readyz")
        client = _Client(server.url, token(db_path))
        for _ in range(LOADED_BATCHES):
            assert client.send(), server.tail()
        free = _free(disk)
        filler = disk / "filler"
        with filler.open("wb") as out:
            for _ in range((free - (1 << 20)) >> 20):
                out.write(b"\0" * (1 << 20))
        in_a_row = 0
        while in_a_row < 3:
            in_a_row = 0 if client.send() else in_a_row + 1
        log(f"disk full after {client.sent} batches")
        filler.unlink()
        recovered = client.until_taken()
        log(f"a write taken {recovered:.3f} s after space was freed")
        logged = server.tail(10**8)
        reopens = [float(s) for s in re.findall(r"store: reopened after ([\d.]+) s", logged)]
        stored_before = client.stored()
        server.process.kill()
        server.process.wait(10)
        started = time.monotonic()
        server = spawn_vigil(env, ctx.tmp)
        client.url = server.url  # another free port
        client.until_taken()  # connection refused until it listens
        restart = time.monotonic() - started
        log(f"restarted: a write taken {restart:.3f} s after the kill")
        stored_after = client.stored()
    finally:
        server.stop()
    reopen = statistics.median(reopens) if reopens else None
    return {
        "benchmark": "store_faults",
        "points_acknowledged": client.acked,
        "points_stored_before_restart": stored_before,
        "points_stored_after_kill_and_restart": stored_after,
        "nothing_acknowledged_lost": client.acked <= stored_after,
        "reopens": len(reopens),
        "reopen_seconds_median": reopen,
        "reopen_seconds_max": max(reopens) if reopens else None,
        "first_write_after_space_freed_seconds": round(recovered, 4),
        "kill_restart_to_first_write_seconds": round(restart, 3),
        "restart_over_reopen": round(restart / reopen, 1) if reopen else None,
        "restart_over_recovery": round(restart / recovered, 1) if recovered else None,
    }


def _free(disk: Path) -> int:
    stat = os.statvfs(disk)
    return stat.f_bavail * stat.f_frsize
