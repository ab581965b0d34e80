"""Real `vigil serve` processes for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class VigilProcess:
    port: int
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/graphql"

    def start(self) -> None:
        with self.log.open("ab") as log:  # a file, not a pipe: a full pipe would block it
            self.process = subprocess.Popen(
                [sys.executable, "-m", "infra.cli", "serve", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"vigil serve exited: {self.log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=0.5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("vigil serve did not become ready")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as when a machine dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def token(self, *args: str) -> str:
        out = subprocess.run(
            [sys.executable, "-m", "infra.cli", "token", *args],
            env=self.env,
            check=True,
            capture_output=True,
        )
        return out.stdout.decode().strip()


@pytest.fixture
def vigil_process(tmp_path: Path) -> Iterator[Callable[..., VigilProcess]]:
    started: list[VigilProcess] = []

    def make(**env: str) -> VigilProcess:
        full = {
            **os.environ,
            "VIGIL_STORE_URL": f"duckdb:///{tmp_path}/vigil-{len(started)}.duckdb",
            "VIGIL_SECRET": SECRET,
            # The secret file, and the encryption and audit keys beside it: in the test's
            # folder (a test may name another data directory).
            "VIGIL_DATA_DIR": str(tmp_path),
            "VIGIL_SELF_MONITOR_SECONDS": "0",
            # The suite keeps both cores busy: SCHED_IDLE workers would get CPU only between
            # tests (tests/unit/analytics/test_worker_scheduling.py checks the default).
            "VIGIL_ANALYTICS_WORKER_IDLE": "false",
            **env,
        }
        process = VigilProcess(free_port(), full, tmp_path / f"vigil-{len(started)}.log")
        started.append(process)
        process.start()
        return process

    yield make
    for process in started:
        process.stop()
