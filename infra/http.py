"""HTTP edges: request ids, body-size limits, and request timing for self-monitoring."""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Callable

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimit", "RequestObserver"]

_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")

Observe = Callable[[float, int], None]

# A request id unique to this process's run and to the request: a random prefix and a
# counter: 0.3 us against 2.7 for uuid4, whose urandom syscall costs more under load.
_ID_PREFIX = os.urandom(6).hex()
_ID_SEQUENCE = itertools.count(1)


def _new_request_id() -> str:
    return f"{_ID_PREFIX}-{next(_ID_SEQUENCE):x}"


class RequestObserver:
    """Gives each request an id (`X-Request-ID`, kept if the client sent a sane one) and
    reports its duration and status to `observe`."""

    def __init__(self, app: ASGIApp, *, observe: Observe) -> None:
        self.app = app
        self.observe = observe

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = dict(scope.get("headers") or ()).get(b"x-request-id", b"").decode("latin-1")
        request_id = sent if _SAFE_ID.fullmatch(sent) else _new_request_id()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self.observe(time.perf_counter() - started, status)


class BodyLimit:
    """Refuses request bodies over `max_bytes` with 413, before they are buffered."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counted, send)
        except _TooLarge:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = orjson.dumps(
            {
                "errors": [
                    {
                        "message": f"request body larger than {self.max_bytes} bytes",
                        "extensions": {"code": "BAD_USER_INPUT"},
                    }
                ]
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass
