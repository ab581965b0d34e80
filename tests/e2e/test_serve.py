"""End to end: real `vigil serve` processes, a real HTTP client and websocket clients."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import httpx
import pytest

from tests.e2e.conftest import VigilProcess
from tests.support import MARKER, primed, ws_client

pytestmark = pytest.mark.e2e

CREATE = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted ids } }"""
SUB = "subscription($p: String!) { metricCollected(project: $p) { name value } }"
COUNT = """query($p: String!) { metricSeries(project: $p, name: "cpu",
  from: "2000-01-01T00:00:00Z", aggregation: COUNT) { series { values } } }"""


def marker(vigil: VigilProcess, project: str, auth: str) -> Callable[[int], Awaitable[object]]:
    """What `primed` sends: marker point number n, through `vigil`."""

    async def poke(n: int) -> None:
        points = [{"name": MARKER, "value": n}]
        await asyncio.to_thread(post, vigil, CREATE, {"p": project, "points": points}, auth)

    return poke


def post(vigil: VigilProcess, query: str, variables: dict[str, object], auth: str) -> dict:
    response = httpx.post(
        f"{vigil.url}/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {auth}"},
        timeout=10,
    )
    assert response.status_code == 200
    body: dict = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_collect_subscribe_and_survive_a_kill(
    vigil_process: Callable[..., VigilProcess],
) -> None:
    vigil = vigil_process()
    admin = vigil.token("--subject", "alice", "--project", "demo", "--role", "admin")
    async with ws_client(vigil.ws_url, admin) as client:
        op = await client.subscribe(SUB, {"p": "demo"})
        await primed(client, op, marker(vigil, "demo", admin))
        # Distinct timestamps: points of one series at one instant are one point.
        start_ms = int(time.time() * 1000) - 60_000
        points = [{"name": "cpu", "value": float(i), "timestamp": start_ms + i} for i in range(100)]
        data = await asyncio.to_thread(post, vigil, CREATE, {"p": "demo", "points": points}, admin)
        assert data["createMetrics"]["accepted"] == 100
        received: list[float] = []
        while len(received) < 100:  # points go out at the next tick (0.1 s): 5 s is the bound
            message = await client.next_for(op, timeout=5)
            received += [p["value"] for p in message["payload"]["data"]["metricCollected"]]
        assert received == [float(i) for i in range(100)]
    vigil.kill()  # acknowledged points must survive a process that dies without shutdown
    vigil.start()
    counted = post(vigil, COUNT, {"p": "demo"}, admin)["metricSeries"]["series"]
    assert counted == [{"values": [100.0]}]


@pytest.mark.redis
async def test_two_processes_share_the_redis_bus(
    vigil_process: Callable[..., VigilProcess],
) -> None:
    project = f"e2e-{uuid.uuid4().hex[:8]}"
    one = vigil_process(VIGIL_BUS_URL="redis://127.0.0.1:6379/0")
    two = vigil_process(VIGIL_BUS_URL="redis://127.0.0.1:6379/0")
    viewer = one.token("--subject", "bob", "--project", project, "--role", "viewer")
    collector = two.token("--subject", "agent", "--project", project, "--role", "collector")
    async with ws_client(one.ws_url, viewer) as client:
        op = await client.subscribe(SUB, {"p": project})
        await primed(client, op, marker(two, project, collector))  # sent to the other one
        await asyncio.to_thread(
            post, two, CREATE, {"p": project, "points": [{"name": "cpu", "value": 7}]}, collector
        )
        message = await client.next_for(op, timeout=5)
        assert message["payload"]["data"]["metricCollected"] == [{"name": "cpu", "value": 7.0}]
