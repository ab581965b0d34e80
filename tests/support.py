"""Test helpers: a Vigil on a real uvicorn server in the test's loop, and real clients."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn
import websockets

from infra.app import create_app
from infra.auth import LocalTokens
from infra.config import Settings
from infra.serving import server_options

SECRET = "test-secret-" + "x" * 32

# A subscription is served within one event bus operation (the bus's default timeout,
# 5 s, bounds a Redis subscription's confirmation) or refused; 5 s more for a loaded machine.
SUBSCRIBED_WITHIN_SECONDS = 5.0 + 5.0


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    base = Settings(
        store_url=f"duckdb:///{tmp_path}/vigil.duckdb",
        secret=SECRET,
        secret_file=f"{tmp_path}/secret.key",  # the encryption and signing keys go beside it
        self_monitor_seconds=0,
        # Off unless a test asks (rollup_seconds=...): on the MongoDB emulator, recomputing
        # a loaded backfill's thousands of dirty minutes in mongomock-ng (pure Python)
        # starved the other requests of analytics and cluster tests past their timeouts.
        rollup_seconds=0,
        ws_init_timeout_seconds=2.0,
        # The suite keeps both cores busy: SCHED_IDLE workers would get CPU only between
        # tests (tests/unit/analytics/test_worker_scheduling.py checks the default).
        analytics_worker_idle=False,
    )
    return replace(base, **overrides)


def token(subject: str = "alice", ttl: int = 3600, **projects: str) -> str:
    """A local token; a negative `ttl` gives one that expired that many seconds ago."""
    issued = time.time() if ttl > 0 else time.time() + ttl - 60
    tokens = LocalTokens(SECRET.encode(), clock=lambda: issued)
    return tokens.issue(
        subject=subject, projects=projects or {"demo": "admin"}, ttl_seconds=ttl if ttl > 0 else 60
    )


@dataclass
class RunningVigil:
    url: str
    ws_url: str
    app: Any
    http: httpx.AsyncClient = field(repr=False)

    async def gql(
        self, query: str, variables: dict[str, Any] | None = None, *, auth: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {auth}"} if auth else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def ok(
        self, query: str, variables: dict[str, Any] | None = None, *, auth: str | None = None
    ) -> dict[str, Any]:
        body = await self.gql(query, variables, auth=auth)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    def listeners(self, channel: str) -> int:
        """The client subscriptions this server serves on `channel` (`Vigil.live`)."""
        count: int = self.app.state.vigil.live.count(channel)
        return count

    async def listening(self, channel: str, count: int = 1) -> None:
        """Wait until at least `count` client subscriptions receive the events of `channel`
        (`AlertEvent.channel_for("demo")`, say): from then on, every event published there
        reaches them. Subscribers with the same document, variables and rights share one
        stream: they count once."""
        await until(
            lambda: self.listeners(channel) >= count,
            SUBSCRIBED_WITHIN_SECONDS,
            f"{count} subscription(s) on {channel} (now {self.listeners(channel)})",
        )


async def until(check: Any, seconds: float, what: str, *, every: float = 0.01) -> None:
    """Poll `check()` (a function, or a coroutine function) until it is true; fail with
    `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        outcome = check()
        if asyncio.iscoroutine(outcome):
            outcome = await outcome
        if outcome:
            return
        assert time.monotonic() < deadline, f"not within {seconds:g} s: {what}"
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def serve(
    settings: Settings, *, database: Any = None, notifications_clock: Any = None
) -> AsyncIterator[RunningVigil]:
    """Start the real ASGI app on a real uvicorn server bound to a free loopback port;
    `database`: a store shared with other apps of the test; `notifications_clock`: a clock
    the test moves to drive the notification router and worker."""
    app = create_app(settings, database=database, notifications_clock=notifications_clock)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        **server_options(settings),  # the limits `vigil serve` gives uvicorn
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    deadline = time.monotonic() + 10
    while not server.started:
        if task.done():
            task.result()
        assert time.monotonic() < deadline, "uvicorn did not start"
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient(base_url=url, timeout=10) as http:
        try:
            yield RunningVigil(url, f"ws://127.0.0.1:{port}/graphql", app, http)
        finally:
            server.should_exit = True
            await asyncio.wait_for(task, 10)


class WSClient:
    """A graphql-transport-ws client over the `websockets` library."""

    def __init__(self, connection: websockets.ClientConnection) -> None:
        self.connection = connection
        self._next_id = 0
        self._kept: dict[str, list[dict[str, Any]]] = {}

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(orjson.dumps(message).decode())

    async def receive(self, timeout: float = 5.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.connection.recv(), timeout)
        message: dict[str, Any] = orjson.loads(raw)
        return message

    async def subscribe(self, query: str, variables: dict[str, Any] | None = None) -> str:
        self._next_id += 1
        op_id = str(self._next_id)
        await self.send(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )
        return op_id

    def put_back(self, op_id: str, messages: list[dict[str, Any]]) -> None:
        """Messages of `op_id` read too early: `next_for` returns them first, in order."""
        self._kept[op_id] = messages + self._kept.get(op_id, [])

    async def next_for(self, op_id: str, timeout: float = 5.0) -> dict[str, Any]:
        """The next message of operation `op_id`, answering pings. Messages of other
        operations that arrive first are kept for them: the server orders messages per
        operation, not across operations."""
        kept = self._kept.get(op_id)
        if kept:
            return kept.pop(0)
        async with asyncio.timeout(timeout):
            while True:
                message = await self.receive(timeout)
                if message.get("type") == "ping":
                    await self.send({"type": "pong"})
                    continue
                if message.get("id") == op_id:
                    return message
                self._kept.setdefault(str(message.get("id")), []).append(message)

    async def close_code(self, timeout: float = 5.0) -> int | None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(self.connection.recv(), timeout)
        return self.connection.close_code


@contextlib.asynccontextmanager
async def ws_client(url: str, auth: str | None, *, init: bool = True) -> AsyncIterator[WSClient]:
    async with websockets.connect(
        url, subprotocols=[websockets.Subprotocol("graphql-transport-ws")]
    ) as connection:
        client = WSClient(connection)
        if init:
            await client.send(
                {
                    "type": "connection_init",
                    "payload": {"Authorization": f"Bearer {auth}"} if auth else {},
                }
            )
            ack = await client.receive()
            assert ack == {"type": "connection_ack"}, ack
        yield client


MARKER = "marker"  # the metric name of `primed`'s points


def metric_marker(message: dict[str, Any]) -> int:
    """The newest marker number in a `metricCollected` message (0: none)."""
    points = message["payload"]["data"]["metricCollected"]
    return max((int(p["value"]) for p in points if p["name"] == MARKER), default=0)


async def primed(
    client: WSClient,
    op: str,
    poke: Callable[[int], Awaitable[object]],
    *,
    marker_of: Callable[[dict[str, Any]], int] = metric_marker,
    every: float = 0.25,
) -> None:
    """Return once the subscription `op` receives what is published from now on: for a
    server in another process, whose state a test cannot read (in process, await
    `RunningVigil.listening`). `poke(n)` makes the server publish marker number n, which
    `marker_of(message)` reads back (0 for a message without one; by default a
    `metricCollected` point named MARKER with value n). A marker is sent every `every`
    seconds until one arrives; those sent after it are on their way (the bus keeps a
    channel's order): they are read too, so that none is left for the test. What else
    arrives meanwhile is kept for the test (`WSClient.put_back`)."""
    others: list[dict[str, Any]] = []

    def newest(message: dict[str, Any]) -> int:
        number = marker_of(message) if message["type"] == "next" else 0
        if not number:
            others.append(message)
        return number

    deadline = time.monotonic() + SUBSCRIBED_WITHIN_SECONDS
    poked = seen = 0
    while not seen:
        assert time.monotonic() < deadline, f"no marker reached the subscription {op}"
        poked += 1
        await poke(poked)
        with contextlib.suppress(TimeoutError):
            seen = newest(await client.next_for(op, timeout=every))
    while seen < poked:
        seen = max(seen, newest(await client.next_for(op, timeout=SUBSCRIBED_WITHIN_SECONDS)))
    client.put_back(op, others)
