"""Issue 12, items 9 and 17: who may open websockets, and how many.

Real websocket clients against a real server: a user (or a script with one token) opening
socket after socket, one address doing the same, and pages of other sites opening a socket
from a user's browser (which sends their Origin).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets

from infra.config import Mode
from tests.support import RunningVigil, make_settings, serve, token, until, ws_client

PROTOCOL = [websockets.Subprotocol("graphql-transport-ws")]
# The server releases a closed socket's counts as soon as it sees the close: on a loaded
# machine that can take a while, so the test polls for it within this margin.
RELEASED_WITHIN_SECONDS = 10.0


async def refused(vigil: RunningVigil, auth: str | None) -> tuple[int | None, str]:
    """Open a socket (with connection_init if `auth`); the close code and reason it gets."""
    async with websockets.connect(vigil.ws_url, subprotocols=PROTOCOL) as connection:
        if auth is not None:
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {auth}"}}
            await connection.send(orjson.dumps(init).decode())
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                message = orjson.loads(await connection.recv())
                assert message["type"] != "connection_ack", "the socket over the cap was served"
    return connection.close_code, connection.close_reason or ""


async def admitted(vigil: RunningVigil, auth: str) -> bool:
    """Whether a new socket for `auth` gets its connection_ack now."""
    try:
        async with ws_client(vigil.ws_url, auth):
            return True
    except (AssertionError, websockets.ConnectionClosed):
        return False


@contextlib.asynccontextmanager
async def sockets(vigil: RunningVigil, *auths: str) -> AsyncIterator[list[Any]]:
    async with contextlib.AsyncExitStack() as stack:
        yield [await stack.enter_async_context(ws_client(vigil.ws_url, a)) for a in auths]


async def test_one_user_holds_at_most_the_cap_of_sockets(tmp_path: Path) -> None:
    alice, bob = token("alice", demo="viewer"), token("bob", demo="viewer")
    settings = make_settings(tmp_path, ws_max_per_subject=3, ws_max_per_client=100)
    async with serve(settings) as vigil, sockets(vigil, alice, alice, bob) as held:
        async with ws_client(vigil.ws_url, alice):  # the third of alice's
            code, reason = await refused(vigil, alice)
            assert code == 4429
            assert reason == "too many websockets for alice: at most 3 per user; close one first"
            assert await admitted(vigil, bob)  # another user is not held up by alice
        # The third one closed: its place is free again.
        await until(lambda: admitted(vigil, alice), RELEASED_WITHIN_SECONDS, "a freed place")
        await held[0].connection.close()
        async with ws_client(vigil.ws_url, alice), ws_client(vigil.ws_url, alice):
            pass  # the client is released too: ... after the first socket closed, two fit


async def test_one_address_holds_at_most_the_cap_of_sockets(tmp_path: Path) -> None:
    users = [token(f"user{n}", demo="viewer") for n in range(3)]
    settings = make_settings(tmp_path, ws_max_per_subject=100, ws_max_per_client=3)
    async with serve(settings) as vigil, sockets(vigil, *users) as held:
        # Refused at the handshake, before any token is looked at.
        code, reason = await refused(vigil, None)
        assert (code, reason) == (4429, "too many websockets from 127.0.0.1: at most 3 per address")
        await held[0].connection.close()
        fourth = token("user3", demo="viewer")
        await until(lambda: admitted(vigil, fourth), RELEASED_WITHIN_SECONDS, "a freed place")


async def test_refused_sockets_release_nothing_they_did_not_hold(tmp_path: Path) -> None:
    """A refused socket (bad token, over the cap) leaves the counts as they were."""
    alice = token("alice", demo="viewer")
    settings = make_settings(tmp_path, ws_max_per_subject=1, ws_max_per_client=100)
    async with serve(settings) as vigil:
        async with ws_client(vigil.ws_url, alice):
            for _ in range(3):
                assert (await refused(vigil, alice))[0] == 4429
            assert (await refused(vigil, "not-a-token"))[0] == 4403
            counts = vigil.app.state.socket_counts
            assert counts.subjects == {"alice": 1}
        await until(lambda: admitted(vigil, alice), RELEASED_WITHIN_SECONDS, "a freed place")
        await until(
            lambda: not vigil.app.state.socket_counts.clients,
            RELEASED_WITHIN_SECONDS,
            "every address released",
        )


async def handshake(vigil: RunningVigil, origin: str | None) -> int:
    """The HTTP status of a websocket handshake sent with `origin` (101: accepted)."""
    try:
        async with websockets.connect(
            vigil.ws_url,
            subprotocols=PROTOCOL,
            origin=websockets.Origin(origin) if origin is not None else None,
        ):
            return 101
    except websockets.InvalidStatus as exc:
        if exc.response.status_code == 403:
            body = orjson.loads(exc.response.body or b"{}")
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body
            assert "VIGIL_ALLOWED_ORIGINS" in body["errors"][0]["message"]
        return exc.response.status_code


ORIGIN_CASES = {
    # (mode, VIGIL_ALLOWED_ORIGINS): [(the Origin sent, the handshake's HTTP status)]
    (Mode.PRODUCTION, ""): [
        (None, 101),  # non-browser clients send no Origin
        ("http://127.0.0.1:{port}", 101),  # Vigil's own pages: compared with the Host
        ("http://127.0.0.1:1", 403),
        ("https://evil.example", 403),
        ("null", 403),  # a sandboxed frame, a file: page
        ("http://localhost:5173", 403),
    ],
    (Mode.DEVELOPMENT, ""): [
        ("http://localhost:5173", 101),  # a dev server, on any port
        ("http://[::1]:3000", 101),
        ("http://127.0.0.1:{port}", 101),
        ("http://localhost.evil.example", 403),
        ("https://evil.example", 403),
    ],
    (Mode.PRODUCTION, "https://grafana.example.com"): [
        ("https://grafana.example.com", 101),
        ("https://GRAFANA.example.com:443", 101),
        ("http://grafana.example.com", 403),
        ("https://grafana.example.com.io", 403),
        (None, 101),
    ],
    (Mode.PRODUCTION, "*"): [("https://anything.example", 101)],
}


@pytest.mark.parametrize(("mode", "allowed"), list(ORIGIN_CASES))
async def test_browser_origins_are_checked_before_the_handshake(
    tmp_path: Path, mode: Mode, allowed: str
) -> None:
    settings = make_settings(tmp_path, mode=mode, allowed_origins=allowed)
    async with serve(settings) as vigil:
        port = vigil.url.rsplit(":", 1)[1]
        answers = {
            origin: await handshake(vigil, origin.format(port=port) if origin else None)
            for origin, _ in ORIGIN_CASES[mode, allowed]
        }
        assert answers == dict(ORIGIN_CASES[mode, allowed])
        # Refused handshakes opened nothing; the accepted ones are closed by now.
        state = vigil.app.state
        await until(
            lambda: state.vigil.monitor.websockets == 0 and not state.socket_counts.clients,
            RELEASED_WITHIN_SECONDS,
            "every socket closed and released",
        )
