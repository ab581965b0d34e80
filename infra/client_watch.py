"""Work for an HTTP client that stops when the client leaves.

Without this a query whose client disconnected ran to its end (9 s after the client left,
issue 12): ASGI tells a disconnect only to whoever awaits `receive()`, and nobody did once
the body was read. Cancelling the task cancels the store's reads too (the DuckDB runner
interrupts its query, PyMongo closes the socket).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import TypeVar

from starlette.types import Message, Receive

__all__ = ["ClientGone", "while_connected"]

T = TypeVar("T")


class ClientGone(Exception):
    """The client disconnected before the answer was ready; the work was cancelled."""


async def while_connected(receive: Receive, work: Callable[[Receive], Awaitable[T]]) -> T:
    """`work(receive)`'s result, or ClientGone once the client disconnects before it is
    done. `work` gets a `receive` to read the body with; after the body this listens."""
    body_read = asyncio.Event()

    async def tracked() -> Message:
        message = await receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            body_read.set()
        return message

    async def until_gone() -> None:
        await body_read.wait()
        while (await receive())["type"] != "http.disconnect":
            pass

    task = asyncio.ensure_future(work(tracked))
    watcher = asyncio.ensure_future(until_gone())
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for pending in (watcher, task):
            if not pending.done():
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pending
    if task.cancelled():  # the client left first
        raise ClientGone
    return task.result()
