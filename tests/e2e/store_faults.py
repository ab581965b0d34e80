"""What the store-fault tests share: a small disk the test mounts, a filler file, and a
client that sends numbered batches and counts what was acknowledged."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.e2e.conftest import VigilProcess
from tests.tools import missing

CREATE = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted } }"""
COUNT = """query($p: String!) { metricSeries(project: $p, name: "cpu",
  from: "2000-01-01T00:00:00Z", aggregation: COUNT) { series { values } } }"""
HEALTH = "{ systemHealth { status components { name status detail } } }"


@contextlib.contextmanager
def small_disk(where: Path, *, megabytes: int) -> Iterator[Path]:
    """A tmpfs of `megabytes` mounted at `where` (root only), unmounted afterwards."""
    if shutil.which("mount") is None:
        missing("mount is not installed (util-linux)")
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        missing(f"cannot mount a tmpfs (needs root): {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path, *, leave: int) -> Path:
    """A filler file that leaves about `leave` bytes free on `disk`."""
    stat = os.statvfs(disk)
    free = stat.f_bavail * stat.f_frsize
    filler = disk / "filler"
    with filler.open("wb") as out:
        remaining = max(free - leave, 0)
        while remaining > 0:
            chunk = min(remaining, 1 << 20)
            out.write(b"\0" * chunk)
            remaining -= chunk
    return filler


def top_up(filler: Path) -> None:
    """Grow `filler` until the disk has no byte left."""
    with filler.open("ab", buffering=0) as out, contextlib.suppress(OSError):
        while True:
            out.write(b"\0" * 4096)


@dataclass
class Sender:
    """Sends batches of `size` points with timestamps no batch shares, counting the ones
    acknowledged (200, no error) and keeping every refusal."""

    vigil: VigilProcess
    auth: str
    project: str = "disk"
    size: int = 200
    acked: int = 0
    sent: int = 0
    refusals: list[httpx.Response] = field(default_factory=list)
    start_ms: int = field(default_factory=lambda: int(time.time() * 1000) - 3_600_000)

    def send(self) -> bool:
        first = self.start_ms + self.sent * self.size
        points = [
            {"name": "cpu", "value": float(i), "timestamp": first + i, "tags": {"host": "a"}}
            for i in range(self.size)
        ]
        self.sent += 1
        response = gql(self.vigil, CREATE, {"p": self.project, "points": points}, self.auth)
        body = response.json()
        if response.status_code == 200 and not body.get("errors"):
            assert body["data"]["createMetrics"]["accepted"] == self.size
            self.acked += self.size
            return True
        self.refusals.append(response)
        return False

    def nothing_acknowledged_lost(self) -> None:
        """Every acknowledged point is stored. A refused batch may be stored too: when the
        store fails after the points committed (the audit entry of the command, say), the
        caller hears UNAVAILABLE and retries, and a point stored again replaces itself."""
        stored = self.stored()
        assert self.acked <= stored <= self.acked + len(self.refusals) * self.size, (
            stored,
            self.acked,
            len(self.refusals),
        )

    def stored(self) -> int:
        response = gql(self.vigil, COUNT, {"p": self.project}, self.auth)
        body = response.json()
        assert "errors" not in body, body
        series = body["data"]["metricSeries"]["series"]
        return int(series[0]["values"][0]) if series else 0


def gql(vigil: VigilProcess, query: str, variables: dict[str, object], auth: str) -> httpx.Response:
    return httpx.post(
        f"{vigil.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {auth}"},
        timeout=10,
    )


def codes(response: httpx.Response) -> list[str]:
    return [e["extensions"]["code"] for e in response.json().get("errors", [])]


def readyz(vigil: VigilProcess) -> tuple[int, dict]:
    response = httpx.get(f"{vigil.url}/readyz", timeout=5)
    return response.status_code, response.json()


def poll(check: Callable[[], object], seconds: float, what: str, *, every: float = 0.05) -> float:
    """Call `check()` until it is true; the seconds it took. Fails after `seconds`."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"not within {seconds:g} s: {what}"
        time.sleep(every)
    return time.monotonic() - started
