"""Shared machinery: server processes (Vigil and the baselines), tokens, ports, reports."""

from __future__ import annotations

import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psutil

__all__ = [
    "PROJECT",
    "SECRET",
    "Context",
    "CpuWatch",
    "Server",
    "free_port",
    "log",
    "machine",
    "median",
    "raise_nofile",
    "ratio",
    "spawn_vigil",
    "start_baseline",
    "start_vigil",
    "thread_cpu",
    "token",
    "wait_quiet",
]

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "bench"
SECRET = "bench-secret-" + "b" * 40  # VIGIL_SECRET needs 32+ characters
PYTHON = sys.executable


def log(*parts: object) -> None:
    """Progress goes to stderr; stdout carries only the JSON results."""
    print("[bench]", *parts, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def raise_nofile(wanted: int = 8192) -> int:
    """Raise the soft limit on open files (1,000 sockets need 1,000+); children inherit it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        new = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (new, hard))
        soft = new
    return int(soft)


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def ratio(numerator: float, denominator: float) -> float | None:
    return round(numerator / denominator, 3) if denominator else None


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


class CpuWatch:
    """CPU used over a window: by the whole machine, by our processes, and by the others.

    The machine is shared and noisy; `others_cores` says how much of it something else
    used while we measured (0.3 = 30% of one core), so a figure can be read in context.
    """

    def __init__(self, pids: list[int]) -> None:
        self._procs = [psutil.Process(pid) for pid in pids]
        self._sys0 = psutil.cpu_times()
        self._ours0 = self._ours()
        self._t0 = time.monotonic()

    def _ours(self) -> float:
        total = 0.0
        for proc in self._procs:
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            total += times.user + times.system
        return total

    def stop(self) -> dict[str, float]:
        wall = max(1e-9, time.monotonic() - self._t0)
        sys1, ours = psutil.cpu_times(), self._ours() - self._ours0
        delta = {f: getattr(sys1, f) - getattr(self._sys0, f) for f in sys1._fields}
        idle = delta.get("idle", 0.0) + delta.get("iowait", 0.0)
        busy = sum(delta.values()) - idle - delta.get("steal", 0.0)
        busy -= delta.get("guest", 0.0) + delta.get("guest_nice", 0.0)  # counted in user
        return {
            "machine_busy_cores": round(busy / wall, 2),
            "ours_cores": round(ours / wall, 2),
            "others_cores": round(max(0.0, busy - ours) / wall, 2),
            "steal_cores": round(delta.get("steal", 0.0) / wall, 2),
        }


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds of a process's live threads by their OS name (`vigil serve` names its
    workers: infra/thread_names.py), the main thread as "main", pools summed
    (`duckdb-reader_0` and `_1` as `duckdb-reader`)."""
    tick = os.sysconf("SC_CLK_TCK")
    seconds: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:  # ended meanwhile
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        name = "main" if task.name == str(pid) else name.rstrip("0123456789").rstrip("_")
        fields = stat.rsplit(")", 1)[1].split()
        seconds[name] = seconds.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return seconds


def wait_server_idle(server: Server, *, window_s: float, cpu_s: float, deadline: float) -> bool:
    """Wait until the server's process used under `cpu_s` of CPU over `window_s` (its
    background work done), or until `deadline` (time.monotonic); whether it was idle."""
    before = server.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(window_s)
        now = server.cpu_seconds()
        if now - before < cpu_s:
            return True
        before = now
    return False


def wait_quiet(limit_cores: float = 0.4, most: float = 60.0) -> dict[str, float]:
    """Wait (at most `most` s) until the machine is nearly idle; report what was seen."""
    deadline = time.monotonic() + most
    while True:
        watch = CpuWatch([])
        time.sleep(2.0)
        seen = watch.stop()
        busy = seen["machine_busy_cores"]
        if busy <= limit_cores or time.monotonic() > deadline:
            if busy > limit_cores:
                log(f"machine still busy ({busy} cores used by others); measuring anyway")
            return {"busy_cores_before": busy}
        log(f"machine busy ({busy} cores used by others); waiting")


@dataclass
class Context:
    """State one run of `python -m bench` shares between benchmarks."""

    tmp: Path
    # Set by the ingest benchmark: the Vigil file holding the 1M points, and their range.
    db_path: Path | None = None
    data_start_ms: int = 0
    data_end_ms: int = 0
    results: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def create(cls) -> Context:
        return cls(Path(tempfile.mkdtemp(prefix="vigil-bench-")))

    def cleanup(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def vigil_env(db_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "VIGIL_STORE_URL": f"duckdb:///{db_path}",
        "VIGIL_SECRET": SECRET,
        "VIGIL_SECRET_FILE": str(db_path.parent / "secret.key"),  # keys created beside it
        "VIGIL_SELF_MONITOR_SECONDS": "0",
        # The daily compliance scan reads every alert's history (~3 s of reader threads with
        # 10,000 alerts): on a fresh server it falls ~300 s in, inside a measurement.
        "VIGIL_COMPLIANCE_CHECK_SECONDS": "0",
        # The fan-out bench's 1,000 subscriber sockets share one token and one address.
        "VIGIL_WS_MAX_PER_SUBJECT": "10000",
        "VIGIL_WS_MAX_PER_CLIENT": "10000",
        "PYTHONPATH": str(ROOT),
    }


def token(
    db_path: Path, role: str = "admin", *, subject: str = "bench", project: str = PROJECT
) -> str:
    argv = [PYTHON, "-m", "infra.cli", "token", "--subject", subject]
    out = subprocess.run(
        [*argv, "--project", project, "--role", role],
        env=vigil_env(db_path),
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=60,
    )
    return out.stdout.decode().strip()


@dataclass
class Server:
    """A server in its own process; `cpu_seconds()` reads its CPU time (all threads)."""

    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu_seconds(self) -> float:
        times = psutil.Process(self.pid).cpu_times()
        return float(times.user + times.system)

    def wait_ready(self, path: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited early; see {self.log_path}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}{path}", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {timeout} s:\n{self.tail()}")

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 30.0) -> None:
        """SIGTERM (uvicorn shuts down cleanly, DuckDB checkpoints), SIGKILL if it hangs."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            log(f"{self.name} did not stop in {timeout} s; killing pid {self.pid}")
            self.process.kill()
            self.process.wait(10)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _spawn(name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> Server:
    port = free_port()
    log_path = log_dir / f"{name}-{port}.log"
    with open(log_path, "wb") as out:
        process = subprocess.Popen(
            [*argv, "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    return Server(name, port, process, log_path)


def spawn_vigil(env: dict[str, str], log_dir: Path) -> Server:
    """`python -m infra.cli serve` on a free port with `env`, not waiting for it."""
    return _spawn("vigil", [PYTHON, "-m", "infra.cli", "serve"], env, log_dir)


def start_vigil(db_path: Path, log_dir: Path, env: dict[str, str] | None = None) -> Server:
    """`python -m infra.cli serve` on a free port, with the store in `db_path`; `env`:
    more settings (`VIGIL_*`)."""
    settings = {**vigil_env(db_path), **(env or {})}
    server = _spawn("vigil", [PYTHON, "-m", "infra.cli", "serve"], settings, log_dir)
    server.wait_ready("/readyz")
    log(f"vigil serving on port {server.port} (pid {server.pid}, store {db_path})")
    return server


def start_baseline(log_dir: Path) -> Server:
    """The plain Starlette baselines (bench/baselines.py) under uvicorn, in their own process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    server = _spawn("baseline", [PYTHON, "-m", "bench.baselines"], env, log_dir)
    server.wait_ready("/healthz")
    log(f"baseline serving on port {server.port} (pid {server.pid})")
    return server


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
