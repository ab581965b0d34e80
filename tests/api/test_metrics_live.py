"""metricCollected over graphql-transport-ws, with real websocket clients."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import time
from pathlib import Path

import orjson
import websockets

from domain.metrics.events import MetricCollectedEvent
from tests.support import RunningVigil, make_settings, serve, token, until, ws_client

CHANNEL = MetricCollectedEvent.channel_for("demo")

SUB = """subscription($p: String!, $name: String, $m: [TagMatcherInput!]) {
  metricCollected(project: $p, name: $name, matchers: $m) { name value tags } }"""
CREATE = """mutation($points: PointBatch!) {
  createMetrics(project: "demo", points: $points) { accepted } }"""


async def send(vigil: RunningVigil, *points: dict[str, object]) -> None:
    await vigil.ok(CREATE, {"points": list(points)}, auth=token(demo="admin"))


async def test_points_reach_matching_subscribers_only(vigil: RunningVigil) -> None:
    viewer = token(demo="viewer")
    async with ws_client(vigil.ws_url, viewer) as one, ws_client(vigil.ws_url, viewer) as two:
        web = await one.subscribe(
            SUB,
            {"p": "demo", "name": "cpu", "m": [{"key": "host", "op": "REGEX", "value": "web-.*"}]},
        )
        everything = await two.subscribe(SUB, {"p": "demo"})
        await vigil.listening(CHANNEL, 2)
        await send(
            vigil,
            {"name": "cpu", "value": 1, "tags": {"host": "db-1"}},
            {"name": "mem", "value": 2, "tags": {"host": "web-1"}},
            {"name": "cpu", "value": 3, "tags": {"host": "web-2"}},
        )
        got = (await one.next_for(web))["payload"]["data"]["metricCollected"]
        assert got == [{"name": "cpu", "value": 3.0, "tags": {"host": "web-2"}}]
        got_all = (await two.next_for(everything))["payload"]["data"]["metricCollected"]
        assert [p["value"] for p in got_all] == [1.0, 2.0, 3.0]


async def test_identical_subscriptions_share_one_execution(vigil: RunningVigil) -> None:
    viewer = token(demo="viewer")
    async with ws_client(vigil.ws_url, viewer) as one, ws_client(vigil.ws_url, viewer) as two:
        a = await one.subscribe(SUB, {"p": "demo"})
        b = await two.subscribe(SUB, {"p": "demo"})
        groups = vigil.app.state.vigil.groups
        await until(lambda: groups.members() == 2, 5, "both subscribers joined")
        await vigil.listening(CHANNEL)
        assert len(groups) == 1 and vigil.listeners(CHANNEL) == 1
        await send(vigil, {"name": "cpu", "value": 5})
        first = await one.next_for(a)
        second = await two.next_for(b)
        assert first["payload"] == second["payload"]
        await one.send({"id": a, "type": "complete"})
        await until(lambda: groups.members() == 1, 5, "the completed subscriber left")
        assert len(groups) == 1 and vigil.listeners(CHANNEL) == 1
    await until(lambda: len(groups) == 0, 5, "the closed connection's group ended")
    await until(lambda: vigil.listeners(CHANNEL) == 0, 5, "its stream ended")
    assert CHANNEL not in vigil.app.state.vigil.events.channels  # bus released too


async def test_a_busy_stream_is_coalesced_and_loses_nothing(vigil: RunningVigil) -> None:
    async with ws_client(vigil.ws_url, token(demo="viewer")) as client:
        op = await client.subscribe(SUB, {"p": "demo"})
        await vigil.listening(CHANNEL)
        for i in range(20):
            await send(vigil, {"name": "cpu", "value": float(i)})
        values: list[float] = []
        messages = 0
        while len(values) < 20:
            message = await client.next_for(op)
            values += [p["value"] for p in message["payload"]["data"]["metricCollected"]]
            messages += 1
        assert values == [float(i) for i in range(20)]
        assert messages < 20  # several points shared a message


async def test_protocol_ping_and_queries_over_the_socket(vigil: RunningVigil) -> None:
    async with ws_client(vigil.ws_url, token(demo="admin")) as client:
        await client.send({"type": "ping"})
        assert await client.receive() == {"type": "pong"}
        op = await client.subscribe('{ metricNames(project: "demo") }')
        assert (await client.next_for(op))["payload"] == {"data": {"metricNames": []}}
        assert (await client.next_for(op)) == {"id": op, "type": "complete"}
        bad = await client.subscribe("subscription { nope }")
        error = await client.next_for(bad)
        assert error["type"] == "error"


async def test_protocol_violations_close_with_the_documented_codes(vigil: RunningVigil) -> None:
    async with ws_client(vigil.ws_url, None, init=False) as client:
        await client.subscribe(SUB, {"p": "demo"})
        assert await client.close_code() == 4401
    async with ws_client(vigil.ws_url, None, init=False) as client:
        await client.send({"type": "connection_init", "payload": {"Authorization": "Bearer x"}})
        assert await client.close_code() == 4403
    async with ws_client(vigil.ws_url, token(demo="viewer")) as client:
        await client.subscribe(SUB, {"p": "demo"})
        client._next_id -= 1
        await client.subscribe(SUB, {"p": "demo"})
        assert await client.close_code() == 4409
    async with ws_client(vigil.ws_url, token(demo="viewer")) as client:
        await client.send({"type": "connection_init", "payload": {}})
        assert await client.close_code() == 4429
    async with ws_client(vigil.ws_url, None, init=False) as client:
        assert await client.close_code(timeout=5) == 4408
    async with websockets.connect(vigil.ws_url) as plain:  # no subprotocol offered
        with contextlib.suppress(websockets.ConnectionClosed):
            await asyncio.wait_for(plain.recv(), 5)
        assert plain.close_code == 4406


def expiry_of(bearer: str) -> float:
    """The `exp` claim of a token (read, not verified)."""
    claims = bearer.split(".")[1]
    exp: float = orjson.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))["exp"]
    return exp


async def test_an_expired_token_ends_the_subscription(vigil: RunningVigil) -> None:
    ttl = 2
    bearer = token(demo="viewer", ttl=ttl)
    async with ws_client(vigil.ws_url, bearer) as client:
        op = await client.subscribe(SUB, {"p": "demo"})
        await vigil.listening(CHANNEL)
        # The server's timer fires at the expiry; the bound: the token's lifetime plus 5 s
        # for a loaded machine. The error must not come before the expiry.
        message = await client.next_for(op, timeout=ttl + 5)
        ended = time.time()
        assert message["type"] == "error"
        assert message["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert await client.close_code() == 4401
    assert ended >= expiry_of(bearer) - 0.05  # the loop's clock resolution


async def test_operations_per_connection_and_message_size_are_limited(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, ws_max_subscriptions=2, ws_max_message_bytes=2048)
    async with (
        serve(settings) as vigil,
        ws_client(vigil.ws_url, token(demo="viewer")) as client,
    ):
        await client.subscribe(SUB, {"p": "demo"})
        await client.subscribe(SUB, {"p": "demo"})
        third = await client.subscribe(SUB, {"p": "demo"})
        refused = await client.next_for(third)
        assert refused["type"] == "error"
        assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"


def _padded(op_id: str, size: int) -> str:
    """A valid `subscribe` message of exactly `size` UTF-8 bytes, padded with a comment of
    two-byte characters: about half as many characters as bytes."""
    query = '{ metricNames(project: "demo") } #'
    message = {"id": op_id, "type": "subscribe", "payload": {"query": query}}
    base = len(orjson.dumps(message))
    pad = "é" * ((size - base) // 2) + " " * ((size - base) % 2)
    message["payload"]["query"] = query + pad
    text = orjson.dumps(message).decode()
    assert len(text.encode()) == size and len(text) < size * 0.6
    return text


async def test_a_message_over_the_limit_in_bytes_closes_the_socket_with_1009(
    tmp_path: Path,
) -> None:
    """The server (uvicorn, given `ws_max_size` by `infra/serving.py`) owns the limit, in
    bytes: a message of exactly the limit is answered, one byte more closes with 1009."""
    async with (
        serve(make_settings(tmp_path, ws_max_message_bytes=2048)) as vigil,
        ws_client(vigil.ws_url, token(demo="viewer")) as client,
    ):
        await client.connection.send(_padded("at", 2048))
        assert (await client.next_for("at"))["type"] == "next"
        assert (await client.next_for("at"))["type"] == "complete"
        await client.connection.send(_padded("over", 2049))
        assert await client.close_code() == 1009
        assert "2048 bytes" in (client.connection.close_reason or "")
