"""Requests to the process that evaluates an alert, over the event bus.

A user's acknowledgement can reach any process, but only the one holding the alert's
shard may move its instances. The process that got the command publishes a request on
`alerting.control`; every process sees it, the owner carries it out and answers on the
asker's own reply channel. No answer within the timeout (no process holds the shard right
now, during a handover) is UNAVAILABLE: retry shortly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from domain.errors import BadUserInput, NotFound, Unavailable, VigilError
from infra.alerting.following import follow, wait_all
from infra.bus import EventBus

__all__ = ["CONTROL_CHANNEL", "Control", "Handler"]

logger = logging.getLogger("vigil.alerting")

CONTROL_CHANNEL = "alerting.control"

# A request's handler: its answer (sent back if the request wants one), or None when this
# process does not evaluate the alert (the owner answers).
Handler = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]

_ERRORS: dict[str, type[VigilError]] = {
    cls.code: cls for cls in (BadUserInput, NotFound, Unavailable)
}


class Control:
    def __init__(self, bus: EventBus, owner: str, handle: Handler, *, timeout: float) -> None:
        self._bus = bus
        self._owner = owner
        self._handle = handle
        self._timeout = timeout
        self._reply_channel = f"alerting.reply.{owner}"
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        ready = [asyncio.Event(), asyncio.Event()]
        self._tasks = [
            asyncio.create_task(follow(self._bus, CONTROL_CHANNEL, self._serve, ready=ready[0])),
            asyncio.create_task(
                follow(self._bus, self._reply_channel, self._answered, ready=ready[1])
            ),
        ]
        await wait_all(ready, self._timeout)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def call(self, op: str, **payload: Any) -> dict[str, Any]:
        """Ask the owner and wait for its answer; its error is raised here, as it was there."""
        rid = uuid.uuid4().hex
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[rid] = answer
        try:
            # A bus that cannot be reached raises BusUnavailable, an Unavailable.
            request = {"op": op, "rid": rid, "reply": self._reply_channel, "from": self._owner}
            await self._bus.publish(CONTROL_CHANNEL, request | payload)
            async with asyncio.timeout(self._timeout):
                result = await answer
        except TimeoutError:
            raise Unavailable(
                "the process evaluating this alert did not answer; retry shortly"
            ) from None
        finally:
            self._waiting.pop(rid, None)
        error = result.get("error")
        if error:
            raise _ERRORS.get(error["code"], VigilError)(error["message"])
        return result

    async def _serve(self, message: dict[str, Any]) -> None:
        if message.get("from") == self._owner:
            return  # this process asked: it already knew it was not the owner
        try:
            answer = await self._handle(message)
        except VigilError as exc:
            answer = {"error": {"code": exc.code, "message": exc.message}}
        except Exception:
            logger.exception("alert control request %r failed", message.get("op"))
            answer = {"error": {"code": "INTERNAL", "message": "the request failed"}}
        if answer is not None and message.get("reply"):
            with contextlib.suppress(Exception):  # the asker times out
                await self._bus.publish(message["reply"], {"rid": message["rid"], **answer})

    async def _answered(self, message: dict[str, Any]) -> None:
        waiting = self._waiting.get(message.get("rid", ""))
        if waiting is not None and not waiting.done():
            waiting.set_result(message)
