"""Two `vigil serve` processes on a private Redis that is killed and started again.

A live subscription must never go silently dead: when the bus loses Redis, the instance
closes the websocket with 1013 (Try Again Later; docs/decisions/0007), and once Redis is
back a reconnecting client receives points sent to the other instance again.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.bus.conftest import RedisServer
from tests.e2e.conftest import VigilProcess
from tests.e2e.test_serve import COUNT, CREATE, SUB, marker, post
from tests.support import WSClient, primed, ws_client

pytestmark = [pytest.mark.e2e, pytest.mark.redis]


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server on a free port: never the shared one on 6379."""
    (tmp_path / "redis").mkdir()
    server = RedisServer(tmp_path / "redis")
    try:
        yield server
    finally:
        server.kill()


async def ready(vigil: VigilProcess, within: float = 15.0) -> None:
    """Wait until /readyz says 200: the instance's bus is subscribed to Redis again."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=1.0) as http:
        while time.monotonic() < deadline:
            try:
                if (await http.get(f"{vigil.url}/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{vigil.url} did not become ready again")


async def send(vigil: VigilProcess, project: str, value: float, auth: str) -> None:
    points = {"p": project, "points": [{"name": "cpu", "value": value}]}
    data = await asyncio.to_thread(post, vigil, CREATE, points, auth)
    assert data["createMetrics"]["accepted"] == 1


async def values(client: WSClient, op: str) -> list[float]:
    message = await client.next_for(op, timeout=5)
    assert message["type"] == "next", message
    return [p["value"] for p in message["payload"]["data"]["metricCollected"]]


async def closed_with(client: WSClient, within: float) -> tuple[int | None, str]:
    """Read until the server closes; fail if it is still open (silent) after `within`."""
    with pytest.raises(websockets.ConnectionClosed):
        async with asyncio.timeout(within):
            while True:
                message = await client.receive(within)
                assert message.get("type") in ("ping", "pong"), f"unexpected {message}"
    reason = client.connection.close_reason or ""
    return client.connection.close_code, reason


async def test_a_redis_restart_closes_subscriptions_with_1013_then_they_resume(
    vigil_process: Callable[..., VigilProcess], redis_server: RedisServer
) -> None:
    await redis_server.start()
    project = f"e2e-{uuid.uuid4().hex[:8]}"
    one = vigil_process(VIGIL_BUS_URL=redis_server.url)
    two = vigil_process(VIGIL_BUS_URL=redis_server.url)
    viewer = one.token("--subject", "bob", "--project", project, "--role", "viewer")
    collector = two.token("--subject", "agent", "--project", project, "--role", "collector")

    async with ws_client(one.ws_url, viewer) as client:
        op = await client.subscribe(SUB, {"p": project})
        await primed(client, op, marker(two, project, collector))
        await send(two, project, 1, collector)
        assert await values(client, op) == [1.0]  # across instances, through Redis

        redis_server.kill()
        code, reason = await closed_with(client, within=10)
        assert code == 1013, (code, reason)  # retryable: clients reconnect by themselves
        assert "event bus" in reason.lower()

    # While Redis is down, points are still acknowledged and stored: only live delivery
    # stops. A new subscription is refused the same retryable way, not accepted and silent.
    await send(two, project, 2, collector)
    async with ws_client(one.ws_url, viewer) as refused:
        await refused.subscribe(SUB, {"p": project})
        code, reason = await closed_with(refused, within=10)
        assert code == 1013, (code, reason)

    await redis_server.start()
    await ready(one)
    await ready(two)
    async with ws_client(one.ws_url, viewer) as again:  # what a reconnecting client does
        op = await again.subscribe(SUB, {"p": project})
        await primed(again, op, marker(two, project, collector))
        await send(two, project, 3, collector)
        assert await values(again, op) == [3.0]
    # The client catches up with a query: the point sent during the outage is there.
    counted = await asyncio.to_thread(post, two, COUNT, {"p": project}, viewer)
    assert counted["metricSeries"]["series"] == [{"values": [3.0]}]
