"""Real senders for the collector tests: Debian's Prometheus, node-exporter and
VictoriaMetrics, each started on 127.0.0.1 and stopped by its PID."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest


def require(binary: str, package: str) -> str:
    """The binary's path; without it the test skips, or fails under CI (.ci/run installs it)."""
    found = shutil.which(binary)
    if found is None:
        reason = f"{binary} is not installed (Debian package {package}; .ci/run installs it)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@contextmanager
def running(args: list[str], log: Path, *, ready: str, timeout: float = 30) -> Iterator[Any]:
    """Start a process, wait until `ready` (a URL) answers 200, stop it by its PID at the end."""
    with log.open("ab") as out:
        process = subprocess.Popen(args, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{args[0]} exited: {log.read_text()[-2000:]}")
            try:
                if httpx.get(ready, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{args[0]} did not become ready: {log.read_text()[-2000:]}")
            time.sleep(0.1)
        yield process
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(5)


def wait_until(check: Any, *, timeout: float, every: float = 0.25) -> Any:
    """Poll `check()` until it answers something true, for at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        answer = check()
        if answer or time.monotonic() > deadline:
            return answer
        time.sleep(every)
