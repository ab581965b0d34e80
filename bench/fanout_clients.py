"""The fan-out benchmark's subscribers: `CLIENTS` processes of bench/wsclient.py, each
holding `SOCKETS_PER_CLIENT` websockets, so the clients' CPU is not the publisher's."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import psutil

from bench.common import PYTHON, ROOT, Context

__all__ = ["CLIENTS", "SOCKETS_PER_CLIENT", "SubscriberClient", "start_clients"]

CLIENTS = 4
SOCKETS_PER_CLIENT = 250


class SubscriberClient:
    """One bench/wsclient.py process holding `SOCKETS_PER_CLIENT` subscribed sockets,
    driven by lines on its stdin and stdout."""

    def __init__(self, index: int, process: asyncio.subprocess.Process, out: Path) -> None:
        self.index = index
        self.process = process
        self.out = out
        self.cpu0 = 0.0

    async def expect(self, prefix: str, within: float) -> str:
        """The rest of the next line starting with `prefix`, waiting at most `within` s."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + within
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"client {self.index}: no {prefix!r} within {within} s")
            line = (await asyncio.wait_for(self.process.stdout.readline(), left)).decode()
            if not line:
                raise RuntimeError(f"client {self.index} exited (see {self.out}.log)")
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
            if line.startswith("failed"):
                raise RuntimeError(f"client {self.index}: {line.strip()}")

    async def send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command.encode() + b"\n")
        await self.process.stdin.drain()

    def cpu_seconds(self) -> float:
        try:
            times = psutil.Process(self.process.pid).cpu_times()
        except psutil.Error:
            return 0.0
        return float(times.user + times.system)


async def start_clients(ctx: Context, label: str, ws_url: str, auth: str) -> list[SubscriberClient]:
    clients = []
    for c in range(CLIENTS):
        out = ctx.tmp / f"fanout-{label}-{c}"
        with open(f"{out}.log", "wb") as errors:  # noqa: ASYNC230 - opening is instant
            process = await asyncio.create_subprocess_exec(
                PYTHON,
                "-m",
                "bench.wsclient",
                "--url",
                ws_url,
                "--token",
                auth,
                "--sockets",
                str(SOCKETS_PER_CLIENT),
                "--out",
                str(out),
                cwd=ROOT,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=errors,
            )
        clients.append(SubscriberClient(c, process, out))
    return clients
