"""A crossing is published before the point's request is answered (README, alerting.md):
through a real `vigil serve` on a Redis bus, the test holds its own Redis subscription to
the project's alert channel and one HTTP connection, and looks at both sockets when the
answer's bytes arrive: the event must be there already.

Redis sends a published message to its subscribers while it handles PUBLISH, before Vigil
even gets PUBLISH's reply; Vigil answers the request only after that reply. So with the
promise kept, the event is on the test's socket before the answer is; with the event
published after the answer (or from a task left running), the answer comes first.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.bus.conftest import RedisServer
from tests.e2e.conftest import VigilProcess
from tests.e2e.raw import RawHttp, RawRedisSubscriber, RawWebSocket, readable
from tests.support import token

pytestmark = [pytest.mark.e2e, pytest.mark.redis]

POINTS = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted } }"""
CREATE = """mutation($p: String!, $rule: AlertRuleInput!) {
  createAlert(project: $p, rule: $rule) { id } }"""
TRIGGERED = """subscription($p: String!) { alertTriggered(project: $p) { alertId tags } }"""
RULE = {"name": "cpu high", "metric": "cpu", "threshold": 90, "aggregation": "LAST",
        "groupBy": ["host"]}  # fmt: skip
LEASE_SECONDS = 2  # the instance claims the alert shards within a lease and a renewal


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server: the channel cannot carry another test's messages."""
    (tmp_path / "redis").mkdir()
    server = RedisServer(tmp_path / "redis")
    try:
        yield server
    finally:
        server.kill()


def crossing(project: str, host: str) -> dict[str, Any]:
    points = [{"name": "cpu", "value": 95.0, "tags": {"host": host}}]
    return {"query": POINTS, "variables": {"p": project, "points": points}}


async def test_a_crossing_is_on_a_subscriber_socket_before_the_answer(
    vigil_process: Callable[..., VigilProcess], redis_server: RedisServer
) -> None:
    await redis_server.start()
    vigil = vigil_process(
        VIGIL_BUS_URL=redis_server.url,
        VIGIL_ALERT_TICK_SECONDS="3600",  # no tick can be what fires the alert
        VIGIL_ALERT_LEASE_SECONDS=str(LEASE_SECONDS),
    )
    project = f"order-{uuid.uuid4().hex[:8]}"
    admin = token(**{project: "admin"})
    headers = {"Authorization": f"Bearer {admin}"}
    async with httpx.AsyncClient(base_url=vigil.url, headers=headers, timeout=10) as http:
        seed = (await http.post("/graphql", json=crossing(project, "seed"))).json()
        assert seed["data"]["createMetrics"]["accepted"] == 1
        body = {"query": CREATE, "variables": {"p": project, "rule": RULE}}
        alert_id = (await http.post("/graphql", json=body)).json()["data"]["createAlert"]["id"]

    channel = f"alerts.{project}"
    bus = RawRedisSubscriber(redis_server.url, channel)  # returns once Redis serves it
    live = RawWebSocket(vigil.ws_url)
    try:
        live.send({"type": "connection_init", "payload": {"Authorization": f"Bearer {admin}"}})
        assert live.receive() == {"type": "connection_ack"}
        live.send({"id": "t", "type": "subscribe",
                   "payload": {"query": TRIGGERED, "variables": {"p": project}}})  # fmt: skip

        # Warm-up: crossings until one is published, which says the instance evaluates the
        # alert (it holds its shard: within a lease period and a renewal, plus a margin).
        deadline = time.monotonic() + 2 * LEASE_SECONDS + 5
        warm = 0
        while not bus.has_data():
            assert time.monotonic() < deadline, "no crossing was ever published"
            warm += 1
            await asyncio.to_thread(_post, vigil.url, crossing(project, f"warm-{warm}"), headers)
            readable(bus.sock, timeout=0.2)
        bus.arrived()  # the warm-up's events

        for n in range(5):
            request = RawHttp(vigil.url)
            try:
                request.post("/graphql", crossing(project, f"web-{n}"), headers)
                assert readable(request.sock, timeout=10), "no answer"
                before_answer = bus.arrived()  # looked at once the answer is readable
                status, answer = request.answer()
            finally:
                request.close()
            assert (status, answer) == (200, {"data": {"createMetrics": {"accepted": 1}}})
            triggered = [
                (e["rule_id"], e["tags"])
                for e in before_answer
                if e["type"] == "AlertTriggeredEvent"
            ]
            assert triggered == [(alert_id, {"host": f"web-{n}"})], (
                f"crossing {n}: the answer arrived before the event ({before_answer})"
            )

        # The websocket subscriber got every one of them, in order (no tick ran).
        hosts = []
        while len(hosts) < warm + 5:
            message = live.receive()
            assert message["type"] == "next", message
            hosts.append(message["payload"]["data"]["alertTriggered"]["tags"]["host"])
        assert hosts[-5:] == [f"web-{n}" for n in range(5)]
    finally:
        bus.close()
        live.close()


def _post(url: str, body: dict[str, Any], headers: dict[str, str]) -> None:
    answer = httpx.post(f"{url}/graphql", json=body, headers=headers, timeout=10).json()
    assert answer == {"data": {"createMetrics": {"accepted": 1}}}, answer
