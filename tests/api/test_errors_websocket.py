"""Over a real websocket, every operation is answered and every refusal says why: malformed
documents end with `error` (BAD_USER_INPUT) and free their id; close reasons say what to do."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path

import orjson
import pytest
import websockets

from infra.auth import LocalTokens
from tests.support import RunningVigil, make_settings, serve, token, ws_client

NAMES = 'query { metricNames(project: "demo") }'
SUB = 'subscription { metricCollected(project: "demo") { name } }'
MALFORMED = {
    "syntax error in a subscription": 'subscription { metricCollected(project: "demo" { name } }',
    "syntax error in a query": "{ metricNames(project: ",
    "empty query": "   ",
    "unknown field": "subscription { nope }",
    "wrong argument type": "subscription { metricCollected(project: 1) { name } }",
    "operation name not in the document": ('query A { metricNames(project: "demo") }', "B"),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_a_malformed_operation_is_answered_and_its_id_freed(
    vigil: RunningVigil, case: str, caplog: pytest.LogCaptureFixture
) -> None:
    query, name = MALFORMED[case] if isinstance(MALFORMED[case], tuple) else (MALFORMED[case], None)
    async with ws_client(vigil.ws_url, token(demo="viewer")) as client:
        payload = {"query": query, **({"operationName": name} if name else {})}
        await client.send({"id": "op", "type": "subscribe", "payload": payload})
        answer = await client.next_for("op")
        assert answer["type"] == "error", answer
        assert [e["extensions"]["code"] for e in answer["payload"]] == ["BAD_USER_INPUT"]
        assert "Internal error" not in answer["payload"][0]["message"]

        # The id is free again: reusing it runs, where it closed the socket with 4409.
        await client.send({"id": "op", "type": "subscribe", "payload": {"query": NAMES}})
        assert (await client.next_for("op"))["type"] == "next"
        assert (await client.next_for("op"))["type"] == "complete"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def test_malformed_operations_do_not_count_toward_the_operation_limit(
    tmp_path: Path,
) -> None:
    async with (
        serve(make_settings(tmp_path, ws_max_subscriptions=2)) as vigil,
        ws_client(vigil.ws_url, token(demo="viewer")) as client,
    ):
        for n in range(5):
            await client.send({"id": f"bad{n}", "type": "subscribe", "payload": {"query": "{"}})
            assert (await client.next_for(f"bad{n}"))["type"] == "error"
        for n in range(2):
            await client.send({"id": f"ok{n}", "type": "subscribe", "payload": {"query": SUB}})
        await client.send({"id": "third", "type": "subscribe", "payload": {"query": SUB}})
        refused = await client.next_for("third")
        assert refused["payload"][0]["extensions"]["code"] == "RATE_LIMITED"


async def closing(url: str, init: object | None, **kwargs: object) -> tuple[int | None, str]:
    """Open a socket, send `init` as the connection_init payload (or nothing), and return
    the close code and reason."""
    offered = [] if kwargs.get("no_subprotocol") else ["graphql-transport-ws"]
    subprotocols = [websockets.Subprotocol(name) for name in offered] or None
    async with websockets.connect(url, subprotocols=subprotocols) as connection:
        if init is not None:
            await connection.send(orjson.dumps({"type": "connection_init", "payload": init}))
        if kwargs.get("subscribe_first"):
            await connection.send('{"id":"1","type":"subscribe","payload":{"query":"{ a }"}}')
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await connection.recv()
        return connection.close_code, connection.close_reason or ""


OTHER_SECRET = LocalTokens(b"another-secret-" + b"y" * 32)


@pytest.mark.parametrize(
    ("init", "code", "reason"),
    [
        ({}, 4403, 'no token: send {"Authorization": "Bearer ..."} in connection_init'),
        ({"Authorization": "Token abc"}, 4403, 'the Authorization value must read "Bearer'),
        (["Bearer x"], 4403, "connection_init payload must be an object"),
        ({"Authorization": "Bearer abc"}, 4403, "token is malformed"),
        ({"token": "EXPIRED"}, 4403, "token expired: mint a new one (vigil token)"),
        ({"token": "FOREIGN"}, 4403, "token signature is invalid: not signed with this server"),
    ],
)
async def test_a_refused_connection_init_says_why(
    vigil: RunningVigil, init: object, code: int, reason: str
) -> None:
    if init == {"token": "EXPIRED"}:
        init = {"token": token(ttl=-10)}
    elif init == {"token": "FOREIGN"}:
        init = {"token": OTHER_SECRET.issue(subject="ana", projects={"demo": "admin"})}
    got_code, got_reason = await closing(vigil.ws_url, init)
    assert got_code == code
    assert reason in got_reason
    assert len(got_reason.encode()) <= 123


async def test_other_closes_say_what_to_do(vigil: RunningVigil) -> None:
    code, reason = await closing(vigil.ws_url, None, subscribe_first=True)
    assert (code, reason) == (
        4401,
        "subscribe before connection_ack: send connection_init, wait for the ack",
    )
    code, reason = await closing(vigil.ws_url, None, no_subprotocol=True)
    assert code == 4406 and "offer graphql-transport-ws" in reason
    code, reason = await closing(vigil.ws_url, None)  # the fixture's init timeout is 2 s
    assert code == 4408
    assert reason.startswith('no connection_init within 2 s: send {"type": "connection_init"')


@pytest.mark.parametrize(
    ("frame", "reason"),
    [
        ("not json {", "Invalid message: not JSON"),
        (b"\xff\xfe binary junk", "Invalid message: not JSON"),
        ('["connection_init"]', "Invalid message type: None"),
        ('{"type": "start", "id": "1"}', "Invalid message type: start"),
        ('{"type": "subscribe", "id": "1", "payload": "{ a }"}', "Invalid subscribe message"),
        ('{"type": "subscribe", "payload": {"query": "{ a }"}}', "Invalid subscribe message"),
        ('{"type": "subscribe", "id": "1", "payload": {"query": 3}}', "Invalid subscribe message"),
    ],
)
async def test_a_frame_that_breaks_the_protocol_closes_with_4400(
    vigil: RunningVigil, frame: str | bytes, reason: str
) -> None:
    """After `connection_ack`, a frame that is not a graphql-transport-ws message closes the
    socket with 4400 and says what was wrong; nothing before it is lost."""
    async with ws_client(vigil.ws_url, token(demo="viewer")) as client:
        await client.send({"id": "ok", "type": "subscribe", "payload": {"query": NAMES}})
        assert (await client.next_for("ok"))["type"] == "next"
        await client.connection.send(frame)
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(client.connection.recv(), 5)
        assert (client.connection.close_code, client.connection.close_reason) == (4400, reason)
