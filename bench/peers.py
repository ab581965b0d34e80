"""VictoriaMetrics as the benchmarks' peer: its process, its flush and merge, its import format.

Debian's `victoria-metrics` package; the benches install nothing themselves. When the binary
is missing, `start_victoria` says so and returns None, and the caller skips the peer.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterable
from pathlib import Path

import httpx
import orjson

from bench.common import Server, free_port, log

__all__ = [
    "IMPORT_PATH",
    "data_path",
    "dir_bytes",
    "force_flush",
    "force_merge",
    "import_bodies",
    "start_victoria",
]

IMPORT_PATH = "/api/v1/import"  # JSON lines: one series with its values and timestamps a line


def start_victoria(tmp: Path, who: str = "bench") -> Server | None:
    """`victoria-metrics` on a free port with its data in `tmp/victoria-<port>`; None (and
    a message naming `who` skips it) when the Debian package is not installed."""
    binary = shutil.which("victoria-metrics")
    if binary is None:
        log(f"{who}: victoria-metrics is not installed (Debian package victoria-metrics);"
            " its side of the comparison is skipped")  # fmt: skip
        return None
    port = free_port()
    log_path = tmp / f"victoria-{port}.log"
    argv = [
        binary,
        f"-httpListenAddr=127.0.0.1:{port}",
        f"-storageDataPath={data_path(tmp, port)}",
        "-retentionPeriod=100y",
    ]
    with open(log_path, "wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    server = Server("victoria-metrics", port, process, log_path)
    server.wait_ready("/health")
    log(f"victoria-metrics on port {port} (pid {server.pid})")
    return server


def data_path(tmp: Path, port: int) -> Path:
    return tmp / f"victoria-{port}"


def force_flush(server: Server) -> None:
    """Rows still in memory go to searchable parts on disk (`/internal/force_flush`)."""
    httpx.get(f"{server.url}/internal/force_flush", timeout=60).raise_for_status()


def force_merge(server: Server, timeout: float = 120.0) -> float:
    """Merge every partition (`/internal/force_merge` starts it and answers at once), then
    wait until `vm_active_force_merges` is back to 0; the seconds it took."""
    started = time.monotonic()
    httpx.get(f"{server.url}/internal/force_merge", timeout=60).raise_for_status()
    time.sleep(0.2)
    while time.monotonic() - started < timeout:
        text = httpx.get(f"{server.url}/metrics", timeout=60).text
        active = [
            line.split()[-1]
            for line in text.splitlines()
            if line.startswith("vm_active_force_merges")
        ]
        if not active or all(float(v) == 0 for v in active):
            break
        time.sleep(0.2)
    return time.monotonic() - started


def dir_bytes(path: Path) -> int:
    """Bytes of every file under `path` (apparent sizes, as `du --apparent-size -b`)."""
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:  # a part merged away while we walked
                continue
    return total


def import_bodies(
    name: str,
    series: Iterable[str],
    stamps: list[int],
    values: dict[str, list[float]],
    per_request: int,
) -> list[bytes]:
    """`/api/v1/import` bodies of about `per_request` points: each series' points cut into
    runs of `per_request // len(series)` instants (time-major, like the GraphQL batches)."""
    names = list(series)
    per_series = max(1, per_request // len(names))
    bodies = []
    for first in range(0, len(stamps), per_series):
        lines = [
            orjson.dumps(
                {
                    "metric": {"__name__": name, "series": key},
                    "values": values[key][first : first + per_series],
                    "timestamps": stamps[first : first + per_series],
                }
            )
            for key in names
        ]
        bodies.append(b"\n".join(lines) + b"\n")
    return bodies
