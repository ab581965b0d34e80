"""Work for an HTTP client that stops when the client leaves.

Without this a query whose client disconnected ran to its end (9 s after the client left,
issue 12): ASGI tells a disconnect only to whoever awaits `receive()`, and nobody did once
the body was read. Cancelling the work cancels the store's reads too (the DuckDB runner
interrupts its query, PyMongo closes the socket).

The work runs in the caller's task, and the listener starts only once the work has run for
WATCH_AFTER_SECONDS: most answers are ready sooner, and a task of its own for the work plus
a listener cost 55-100 us of CPU per request, up to a quarter of a small request's
(docs/performance.md, "Per-request cost"). A client that leaves is noticed at most that
much later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from starlette.types import Message, Receive

__all__ = ["WATCH_AFTER_SECONDS", "ClientGone", "while_connected"]

T = TypeVar("T")

WATCH_AFTER_SECONDS: Final = 0.05


class ClientGone(Exception):
    """The client disconnected before the answer was ready; the work was cancelled."""


class _Watch:
    """Listens for the disconnect once the body is read, and cancels `task`'s work."""

    def __init__(self, task: asyncio.Task[object], receive: Receive) -> None:
        self.task = task
        self.receive = receive
        self.body_read = False
        self.working = True  # cleared the moment the work ends: never cancel after that
        self.gone = False
        self.listener: asyncio.Task[None] | None = None
        self.timer: asyncio.TimerHandle | None = None

    async def tracked(self) -> Message:
        message = await self.receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            self.body_read = True
        return message

    def arm(self) -> None:
        loop = asyncio.get_running_loop()
        self.timer = loop.call_later(WATCH_AFTER_SECONDS, self.start)

    def start(self) -> None:
        if not self.working:
            return
        if not self.body_read:  # still reading the body: only the work may receive()
            self.arm()
            return
        self.listener = asyncio.ensure_future(self.listen())

    async def listen(self) -> None:
        while (await self.receive())["type"] != "http.disconnect":
            pass
        if self.working:  # the task is suspended inside the work: cancel lands there
            self.gone = True
            self.task.cancel()

    def stop(self) -> None:
        self.working = False
        if self.timer is not None:
            self.timer.cancel()
        if self.listener is not None:
            self.listener.cancel()


async def while_connected(receive: Receive, work: Callable[[Receive], Awaitable[T]]) -> T:
    """`work(receive)`'s result, or ClientGone once the client disconnects before it is
    done. `work` gets a `receive` to read the body with; after the body this listens."""
    task = asyncio.current_task()
    if task is None:  # not in a task: nothing to cancel
        return await work(receive)
    watch = _Watch(task, receive)
    watch.arm()
    try:
        result = await work(watch.tracked)
    except asyncio.CancelledError:
        watch.stop()
        if watch.gone and task.uncancel() == 0:  # our cancel, and nobody else's
            raise ClientGone from None
        raise
    except BaseException:
        watch.stop()
        if watch.gone:  # the work turned our cancel into an error: take the cancel back
            task.uncancel()
        raise
    watch.stop()
    if watch.gone:  # the work swallowed our cancel
        task.uncancel()
        raise ClientGone
    return result
