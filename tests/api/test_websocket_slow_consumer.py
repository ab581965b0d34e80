"""A websocket client that stops reading is closed with 1013 once it lags more than
`VIGIL_WS_QUEUE_MESSAGES` messages behind, while a client with the same subscriptions that
keeps reading is served on (docs/api.md, docs/configuration.md)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import websockets

from infra.ws.connection import TOO_SLOW
from tests.support import RunningVigil, make_settings, serve, token

SUB = 'subscription { metricCollected(project: "demo") { name value tags } }'
CREATE = """mutation($points: PointBatch!) {
  createMetrics(project: "demo", points: $points) { accepted } }"""
QUEUE = 8
OPERATIONS = 4  # one message per operation per batch: half the queue, so keeping up is enough
BATCH = [
    {"name": "cpu", "value": float(n), "tags": {"host": f"{n:04d}-" + "x" * 60}}
    for n in range(1000)
]  # ~100 kB a message: the socket buffers fill after a few dozen unread messages
# Uncompressed, a batch puts ~400 kB on a socket; what a reader that stopped can absorb is
# its 16 kB window, the server's send buffer (at most 4 MB: tcp_wmem) and uvicorn's 64 kB
# transport buffer, then QUEUE messages: 60 batches (24 MB) is six times that.
BOUND = 60


def small_window(vigil: RunningVigil) -> socket.socket:
    """A client socket with a small receive buffer (set before connecting, which also turns
    off its growth): a reader that stops leaves the server little room to write into."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    host, port = vigil.url.removeprefix("http://").split(":")
    sock.connect((host, int(port)))
    sock.setblocking(False)
    return sock


@contextlib.asynccontextmanager
async def subscriber(vigil: RunningVigil, **options: Any) -> AsyncIterator[Any]:
    async with websockets.connect(
        vigil.ws_url,
        subprotocols=[websockets.Subprotocol("graphql-transport-ws")],
        max_size=None,
        compression=None,  # what fills the buffers is then the size the test computes
        **options,
    ) as client:
        auth = {"Authorization": f"Bearer {token(demo='viewer')}"}
        await client.send(orjson.dumps({"type": "connection_init", "payload": auth}).decode())
        assert orjson.loads(await client.recv()) == {"type": "connection_ack"}
        for n in range(OPERATIONS):
            subscribe = {"id": str(n), "type": "subscribe", "payload": {"query": SUB}}
            await client.send(orjson.dumps(subscribe).decode())
        yield client


async def test_a_client_that_stops_reading_is_closed_with_1013(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, ws_queue_messages=QUEUE)
    admin = token(demo="admin")
    async with serve(settings) as vigil, subscriber(vigil) as fast:
        sockets = vigil.app.state.vigil.compliance.sockets
        (keeping_up,) = list(sockets)
        # max_queue=1: the client library stops reading the socket once a message waits
        # unread, so the kernel buffers fill and the server's writes block, as with a
        # frozen browser tab.
        async with subscriber(vigil, max_queue=1, sock=small_window(vigil)) as slow:
            (lagging,) = [s for s in sockets if s is not keeping_up]
            sent = 0
            while lagging.closing is None:
                assert sent < BOUND, "the client that stopped reading was never closed"
                await vigil.ok(CREATE, {"points": BATCH}, auth=admin)
                sent += 1
                # One message per operation reaches the client that reads (the first batch
                # also proves its subscriptions are registered): nothing waits for the other.
                ids = sorted(
                    [
                        orjson.loads(await asyncio.wait_for(fast.recv(), 10))["id"]
                        for _ in range(OPERATIONS)
                    ]
                )
                assert ids == [str(n) for n in range(OPERATIONS)]
            assert sent > 1  # it was served while its buffers had room
            assert lagging.closing[0] == 1013
            assert keeping_up.closing is None

            # When it reads again, it gets what was queued, then the close.
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(slow.recv(), 10)
            assert slow.close_code == 1013
            assert slow.close_reason == "Consumer too slow; reconnect and catch up with a query"

        # The reader is still served after the slow one is gone.
        await vigil.ok(CREATE, {"points": BATCH[:1]}, auth=admin)
        assert orjson.loads(await asyncio.wait_for(fast.recv(), 5))["type"] == "next"
        assert keeping_up.closing is None


async def test_a_send_blocked_past_its_timeout_closes_with_1013_at_once(tmp_path: Path) -> None:
    """Issue 12, item 6: with room in its queue, a client that stopped reading is still
    closed once one message waits `VIGIL_WS_SEND_TIMEOUT_SECONDS` for it, and the close is
    not stuck behind that message."""
    timeout = 1.0
    settings = make_settings(tmp_path, ws_queue_messages=10_000, ws_send_timeout_seconds=timeout)
    admin = token(demo="admin")
    async with serve(settings) as vigil:
        sockets = vigil.app.state.vigil.compliance.sockets
        async with subscriber(vigil, max_queue=1, sock=small_window(vigil)) as slow:
            (lagging,) = list(sockets)
            sent = 0
            while lagging.closing is None:  # until its buffers are full and a send waits
                assert sent < BOUND, "the client that stopped reading was never closed"
                await vigil.ok(CREATE, {"points": BATCH}, auth=admin)
                sent += 1
                await asyncio.sleep(timeout / 4)
            assert lagging.closing == (1013, TOO_SLOW)
            assert lagging.outbox.qsize() < 100  # far from its 10,000: closed by the timeout
            with contextlib.suppress(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(slow.recv(), 10)
            assert (slow.close_code, slow.close_reason) == (1013, TOO_SLOW)
