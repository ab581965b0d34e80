"""while_connected: work for an HTTP client stops when the client leaves, in the caller's
own task; a quick answer starts no listener; nothing is cancelled once the work is done."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.types import Message

from infra.client_watch import WATCH_AFTER_SECONDS, ClientGone, while_connected


class Client:
    """An ASGI `receive` as uvicorn gives one: the body's messages, then it waits until
    the client disconnects, and answers `http.disconnect` from then on."""

    def __init__(self, *chunks: bytes) -> None:
        self.messages: list[Message] = [
            {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
            for i, c in enumerate(chunks or (b"",))
        ]
        self.left = asyncio.Event()
        self.calls = 0

    async def receive(self) -> Message:
        self.calls += 1
        if self.messages:
            await asyncio.sleep(0)
            return self.messages.pop(0)
        await self.left.wait()
        return {"type": "http.disconnect"}


async def _departure(client: Client, work: Any) -> int:
    """Run `work` until `client` leaves (ClientGone expected); the task's cancel count
    after it, 0 when while_connected took back the cancel it made."""
    try:
        await while_connected(client.receive, work)
    except ClientGone:
        task = asyncio.current_task()
        assert task is not None
        return task.cancelling()
    raise AssertionError("the work ended although the client left")


async def _read(receive: Any) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def test_a_quick_answer_starts_no_listener() -> None:
    client = Client(b"ab", b"cd")

    async def work(receive: Any) -> bytes:
        return await _read(receive)

    assert await while_connected(client.receive, work) == b"abcd"
    assert client.calls == 2  # the body only
    await asyncio.sleep(WATCH_AFTER_SECONDS * 2)
    assert client.calls == 2


async def test_a_client_that_leaves_cancels_the_work() -> None:
    client = Client(b"q")
    stopped = asyncio.Event()

    async def work(receive: Any) -> str:
        await _read(receive)
        try:
            await asyncio.sleep(60)
        finally:
            stopped.set()
        return "never"

    async def leave() -> None:
        await asyncio.sleep(WATCH_AFTER_SECONDS * 2)
        client.left.set()

    leaving = asyncio.ensure_future(leave())
    assert await asyncio.wait_for(_departure(client, work), 30) == 0
    await leaving
    assert stopped.is_set()


async def test_no_listener_while_the_body_is_still_arriving() -> None:
    client = Client(b"a", b"b")
    body: list[bytes] = []

    async def work(receive: Any) -> str:
        first = await receive()
        await asyncio.sleep(WATCH_AFTER_SECONDS * 3)  # the timer fires mid-body
        second = await receive()
        body.extend([first["body"], second["body"]])
        return "ok"

    assert await while_connected(client.receive, work) == "ok"
    assert body == [b"a", b"b"]  # the listener took none of the body's messages


async def test_nothing_is_cancelled_after_the_work_is_done() -> None:
    client = Client(b"q")

    async def work(receive: Any) -> str:
        await _read(receive)
        await asyncio.sleep(WATCH_AFTER_SECONDS * 2)  # the listener is running now
        return "answer"

    assert await while_connected(client.receive, work) == "answer"
    client.left.set()  # the client goes while the answer is being sent
    await asyncio.sleep(WATCH_AFTER_SECONDS * 2)  # not cancelled: this completes


async def test_another_cancellation_is_not_a_departure() -> None:
    client = Client(b"q")

    async def work(receive: Any) -> str:
        await _read(receive)
        await asyncio.sleep(60)
        return "never"

    running = asyncio.ensure_future(while_connected(client.receive, work))
    await asyncio.sleep(WATCH_AFTER_SECONDS * 2)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running


async def test_work_that_swallows_the_cancel_still_ends_in_client_gone() -> None:
    client = Client(b"q")

    async def work(receive: Any) -> str:
        await _read(receive)
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            return "swallowed"
        return "never"

    async def leave() -> None:
        await asyncio.sleep(WATCH_AFTER_SECONDS * 2)
        client.left.set()

    leaving = asyncio.ensure_future(leave())
    assert await asyncio.wait_for(_departure(client, work), 30) == 0
    await leaving
