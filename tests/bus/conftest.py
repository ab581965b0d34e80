"""Fixtures and helpers of the event bus tests: real memory and Redis backends, no mocks."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from infra.bus import EventBus, Subscription

REDIS_URL = os.environ.get("VIGIL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

BACKENDS = [
    pytest.param("memory://", id="memory"),
    pytest.param(REDIS_URL, id="redis", marks=pytest.mark.redis),
]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


@pytest.fixture
async def bus(url: str) -> AsyncIterator[EventBus]:
    async with EventBus(url) as opened:
        yield opened


def channel_name() -> str:
    """A fresh channel: Redis pub/sub channels are shared by every test on the server."""
    return f"test-bus:{uuid.uuid4().hex}"


async def receive(subscription: Subscription, within: float = 2.0) -> dict[str, Any]:
    return await asyncio.wait_for(anext(subscription), within)


async def assert_nothing(bus: EventBus, subscription: Subscription) -> None:
    """Nothing is waiting for `subscription`, nor on its way: a marker published now on its
    channel is the next message it gets. The bus delivers a channel's messages in the order
    they were published, so anything published before the marker would come first; no
    quiet period to guess."""
    marker = {"marker": uuid.uuid4().hex}
    await bus.publish(subscription.channel, marker)
    assert await receive(subscription) == marker


async def eventually(
    predicate: Callable[[], bool | Awaitable[bool]], within: float = 5.0, step: float = 0.01
) -> None:
    deadline = time.monotonic() + within
    while True:
        result = predicate()
        if not isinstance(result, bool):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(step)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """A private redis-server on 127.0.0.1, which a test may kill and start again."""

    def __init__(self, directory: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary, "the event bus tests need the redis-server binary"
        self.binary = binary
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self._spawn()
        await eventually(self._answers, within=5.0)

    def _spawn(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        args += ["--dir", str(self.directory), "--logfile", str(self.directory / "redis.log")]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=5)
            self.process = None

    async def _answers(self) -> bool:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        except OSError:
            return False
        try:
            writer.write(b"PING\r\n")
            await writer.drain()
            return await asyncio.wait_for(reader.readline(), 1.0) == b"+PONG\r\n"
        except (OSError, TimeoutError):
            return False
        finally:
            writer.close()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    try:
        yield server
    finally:
        server.kill()
