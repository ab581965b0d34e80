"""The HTTP edge of admission, before a body is read: a caller (or, at a collector
endpoint, a project) refused by a rate limit a moment ago is refused again at once (429),
and for a while after that passes only one request at a time (the others 429: a flooder's
connections would otherwise all be read and parsed the moment its bucket refills, to be
refused but one); a request that would take in-flight ingest past its bounds is answered
503; all with `Retry-After` (the 429s held up to half a second, so that a client that
ignores it cannot keep the server busy refusing). GraphQL gets its error shape, collector
endpoints plain text (their senders retry on 429 and 503 alike)."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Collection
from typing import Final

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from domain.errors import RateLimited, Unavailable, VigilError
from infra.admission.buckets import RateLimits
from infra.admission.inflight import InflightBudget
from infra.collectors.endpoints.gateway import request_token

__all__ = ["GRAPHQL_PATH", "AdmissionEdge", "retry_headers"]

GRAPHQL_PATH = "/graphql"
REFUSAL_HOLD_SECONDS: Final = 0.5  # a refusal at the edge waits this long (at most)


def retry_headers(seconds: int) -> list[tuple[bytes, bytes]]:
    return [(b"retry-after", str(seconds).encode())]


class AdmissionEdge:
    """ASGI middleware for POSTs to /graphql and to the collector endpoints."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        rates: RateLimits,
        inflight: InflightBudget,
        collector_paths: Collection[str],
    ) -> None:
        self.app = app
        self.rates = rates
        self.inflight = inflight
        self.collector_paths = frozenset(collector_paths)
        self._passing: dict[str, int] = {}  # requests past the edge, by caller and project

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope.get("method") != "POST"
            or (path != GRAPHQL_PATH and path not in self.collector_paths)
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        graphql = path == GRAPHQL_PATH
        token = request_token(request, password_param=not graphql)
        project = None
        if not graphql:
            project = request.query_params.get("project") or request.headers.get("x-vigil-project")
        keys = self.rates.keys_of(token, project)
        wait = self.rates.refused_for(keys)
        busy = not wait and any(self._passing.get(k) for k in keys)
        if wait > 0 or (busy and self.rates.on_probation(keys)):
            seconds = max(1, math.ceil(wait))
            why = "the limit was met a moment ago" if wait else "one request at a time after it"
            refusal = RateLimited(f"rate limited; retry in {seconds} s ({why})", retryAfter=seconds)
            # Held a moment before the answer: a client that ignores Retry-After and sends
            # again at once would otherwise keep the server busy answering its refusals.
            await asyncio.sleep(min(wait or 1.0, REFUSAL_HOLD_SECONDS))
            await _refuse(send, 429, refusal, seconds, graphql=graphql)
            return
        for key in keys:
            self._passing[key] = self._passing.get(key, 0) + 1
        try:
            await self._admitted(scope, receive, send, graphql=graphql)
        finally:
            for key in keys:
                left = self._passing[key] - 1
                if left:
                    self._passing[key] = left
                else:
                    del self._passing[key]

    async def _admitted(self, scope: Scope, receive: Receive, send: Send, *, graphql: bool) -> None:
        """Within the in-flight bounds, with the body's bytes counted as they arrive."""
        request = Request(scope)
        declared = request.headers.get("content-length", "")
        counted = int(declared) if declared.isdigit() else 0
        refused = self.inflight.enter(counted)
        if refused is not None:
            await _refuse(send, 503, refused, _seconds(refused), graphql=graphql)
            return
        seen = 0
        started = False

        async def counting() -> Message:
            nonlocal seen, counted
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > counted:
                    more, counted = seen - counted, seen
                    overflow = self.inflight.grow(more)
                    if overflow is not None:
                        raise _Overflow(overflow)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, watched)
        except _Overflow as exc:
            if not started:
                await _refuse(send, 503, exc.error, _seconds(exc.error), graphql=graphql)
        finally:
            self.inflight.leave(counted)


class _Overflow(Exception):
    def __init__(self, error: Unavailable) -> None:
        super().__init__(error.message)
        self.error = error


def _seconds(error: VigilError) -> int:
    value = error.details.get("retryAfter", 1)
    return value if isinstance(value, int) else 1


async def _refuse(
    send: Send, status: int, error: VigilError, seconds: int, *, graphql: bool
) -> None:
    if graphql:
        extensions = {"code": error.code, "retryAfter": seconds}
        body = orjson.dumps({"errors": [{"message": error.message, "extensions": extensions}]})
        media = b"application/json"
    else:
        body, media = (error.message + "\n").encode(), b"text/plain; charset=utf-8"
    headers = [
        (b"content-type", media),
        (b"content-length", str(len(body)).encode()),
        *retry_headers(seconds),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
