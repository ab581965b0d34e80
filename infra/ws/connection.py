"""One websocket speaking `graphql-transport-ws` (the only protocol Vigil accepts).

Close codes follow the protocol: 4400 bad message, 4401 unauthorised, 4403 forbidden,
4406 subprotocol not acceptable, 4408 init timeout, 4409 duplicate id, 4429 repeated init or
too many sockets for one user or address (infra/ws/admission.py), each with a reason that
says what to do;
1009 for an oversized message (sent by the server, uvicorn, which owns that limit:
`infra/serving.py`); 1013 (Try Again Later) for a consumer too slow to keep up, an
identity provider that cannot be reached, and a live stream interrupted or refused because
the event bus lost its backend (ADR 0007). 1013 always means: reconnect after a while, then
catch up with a query; standard clients (graphql-ws) reconnect and resubscribe by themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

import orjson
import strawberry
from graphql import OperationType
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from domain.access import Principal
from domain.errors import Unauthenticated, Unavailable
from infra.query_timeout import QueryTimeout, deadline
from infra.ws.admission import SocketCounts
from infra.ws.close_reasons import SEND_INIT, SUBPROTOCOL, clip, refusal
from infra.ws.groups import StartStream, SubscriptionGroups, encode_errors, encode_result
from schema.context import VigilContext
from schema.documents import operation_type
from schema.errors import INTERNAL_MESSAGE

__all__ = ["GraphQLWebSocket", "WebSocketLimits"]

PROTOCOL = "graphql-transport-ws"

logger = logging.getLogger("vigil.ws")

Authenticate = Callable[[dict[str, Any]], Awaitable[Principal]]
MakeContext = Callable[[Principal, str], VigilContext]


TOO_SLOW = "Consumer too slow; reconnect and catch up with a query"


@dataclass(frozen=True, slots=True)
class WebSocketLimits:
    max_subscriptions: int = 100
    queue_messages: int = 1_000
    init_timeout_seconds: float = 5.0
    send_timeout_seconds: float = 10.0


class _Operation:
    """A member of a subscription group, or a one-shot query/mutation."""

    def __init__(self, connection: GraphQLWebSocket, op_id: str) -> None:
        self.connection = connection
        self.id = op_id
        self.prefix = f'{{"id":{orjson.dumps(op_id).decode()},"type":'
        self.group_key: Hashable | None = None
        self.task: asyncio.Task[None] | None = None

    def send_payload(self, kind: str, payload: str) -> None:
        self.connection.enqueue(f'{self.prefix}"{kind}","payload":{payload}}}')
        if kind == "error":
            self.connection.forget(self.id)

    def send_complete(self) -> None:
        self.connection.enqueue(f'{self.prefix}"complete"}}')
        self.connection.forget(self.id)

    def try_again_later(self, reason: str) -> None:
        # The whole connection: a graphql-ws client resubscribes every operation it still
        # holds after a retryable close, but gives up on one that received `error`.
        self.connection.forget(self.id)
        self.connection.close(1013, reason)


class GraphQLWebSocket:
    """Serves one connection; subscriptions join the shared groups, other operations run once."""

    def __init__(
        self,
        websocket: WebSocket,
        *,
        schema: strawberry.Schema,
        groups: SubscriptionGroups,
        authenticate: Authenticate,
        make_context: MakeContext,
        limits: WebSocketLimits,
        query_timeout: QueryTimeout,
        counts: SocketCounts | None = None,
    ) -> None:
        self.websocket = websocket
        self.schema = schema
        self.groups = groups
        self.authenticate = authenticate
        self.make_context = make_context
        self.limits = limits
        self.query_timeout = query_timeout  # queries only: a mutation always finishes
        self.counts = counts
        self._counted_subject: str | None = None  # released when the socket ends
        self.principal: Principal | None = None
        self.operations: dict[str, _Operation] = {}
        self.outbox: asyncio.Queue[str | None] = asyncio.Queue(limits.queue_messages)
        self._init_received = False
        self._closing: tuple[int, str] | None = None
        self._timers: list[asyncio.TimerHandle] = []
        self._sending: asyncio.Future[None] | None = None  # the message being written

    async def serve(self) -> None:
        offered = self.websocket.scope.get("subprotocols") or []
        if PROTOCOL not in offered:  # accept first: a close before accept is an HTTP 403
            await self.websocket.accept()
            await self.websocket.close(4406, SUBPROTOCOL)
            return
        await self.websocket.accept(subprotocol=PROTOCOL)
        writer = asyncio.create_task(self._write())
        loop = asyncio.get_running_loop()
        self._timers.append(loop.call_later(self.limits.init_timeout_seconds, self._init_timeout))
        try:
            while self._closing is None:
                message = await self.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                await self._handle(text)
        except WebSocketDisconnect:
            pass
        finally:
            for timer in self._timers:
                timer.cancel()
            if self.counts is not None and self._counted_subject is not None:
                self.counts.release_subject(self._counted_subject)
            for op_id in list(self.operations):
                self.forget(op_id)
            self.outbox.put_nowait(None) if not self.outbox.full() else None
            with contextlib.suppress(asyncio.TimeoutError, Exception):
                await asyncio.wait_for(writer, timeout=1.0)
            writer.cancel()

    @property
    def closing(self) -> tuple[int, str] | None:
        """The close code and reason once the connection decided to close, else None."""
        return self._closing

    def enqueue(self, text: str) -> None:
        if self._closing is not None:
            return
        try:
            self.outbox.put_nowait(text)
        except asyncio.QueueFull:
            self.close(1013, TOO_SLOW)

    def forget(self, op_id: str) -> None:
        operation = self.operations.pop(op_id, None)
        if operation is None:
            return
        if operation.group_key is not None:
            self.groups.leave(operation.group_key, operation)
        if operation.task is not None and operation.task is not asyncio.current_task():
            operation.task.cancel()

    def close(self, code: int, reason: str) -> None:
        """Close after what is queued; the writer does the closing."""
        if self._closing is None:
            self._closing = (code, clip(reason))
            while not self.outbox.empty():  # make room for the close marker
                if self.outbox.full():
                    self.outbox.get_nowait()
                else:
                    break
            self.outbox.put_nowait(None)
            if code == 1013 and self._sending is not None:
                # The client is not reading: the write it blocks is abandoned (the client
                # catches up with a query anyway), so the close is not stuck behind it.
                self._sending.cancel()

    async def _write(self) -> None:
        websocket = self.websocket
        try:
            while (text := await self.outbox.get()) is not None:
                self._sending = asyncio.ensure_future(websocket.send_text(text))
                try:
                    await asyncio.wait_for(self._sending, self.limits.send_timeout_seconds)
                except TimeoutError:
                    self.close(1013, TOO_SLOW)
                    break
                except asyncio.CancelledError:
                    if not self._sending.cancelled() or self._closing is None:
                        raise  # the writer itself is cancelled
                    break
                finally:
                    self._sending = None
        except (WebSocketDisconnect, RuntimeError, OSError):
            return
        if self._closing is not None and websocket.application_state != WebSocketState.DISCONNECTED:
            with contextlib.suppress(RuntimeError, OSError):
                await websocket.close(*self._closing)

    def _init_timeout(self) -> None:
        if not self._init_received:
            seconds = f"{self.limits.init_timeout_seconds:g}"
            self.close(4408, f"no connection_init within {seconds} s: {SEND_INIT}")

    async def _handle(self, text: str) -> None:
        try:
            message = orjson.loads(text)
        except orjson.JSONDecodeError:
            self.close(4400, "Invalid message: not JSON")
            return
        kind = message.get("type") if isinstance(message, dict) else None
        if kind == "connection_init":
            await self._on_init(message.get("payload") or {})
        elif kind == "ping":
            self.enqueue('{"type":"pong"}')
        elif kind == "pong":
            pass
        elif kind == "subscribe":
            self._on_subscribe(message)
        elif kind == "complete":
            op_id = message.get("id")
            if isinstance(op_id, str):
                self.forget(op_id)
        else:
            self.close(4400, f"Invalid message type: {str(kind)[:40]}")

    async def _on_init(self, payload: Any) -> None:
        if self._init_received:
            self.close(4429, "Too many initialisation requests")
            return
        self._init_received = True
        try:
            if not isinstance(payload, dict):
                raise Unauthenticated("connection_init payload must be an object")
            self.principal = await self.authenticate(payload)
        except Unauthenticated as exc:
            self.close(4403, refusal(payload, exc))
            return
        except Unavailable:
            self.close(1013, "Identity provider unavailable; try again later")
            return
        if self.counts is not None:
            refused = self.counts.admit_subject(self.principal.subject)
            if refused is not None:
                self.principal = None
                self.close(4429, refused)
                return
            self._counted_subject = self.principal.subject
        self.enqueue('{"type":"connection_ack"}')
        if self.principal.expires_at is not None:
            delay = max(0.0, self.principal.expires_at - time.time())
            self._timers.append(asyncio.get_running_loop().call_later(delay, self._expire))

    def revoke(self, reason: str) -> None:
        """Access was revoked (infra/compliance): end every operation with an error, then
        close as Forbidden; a client that reconnects gets what its token still allows."""
        payload = _error(reason, "FORBIDDEN")
        for operation in list(self.operations.values()):
            operation.send_payload("error", payload)
        self.close(4403, "Forbidden: access revoked")

    def _expire(self) -> None:
        payload = _error("token expired", "UNAUTHENTICATED")
        for operation in list(self.operations.values()):
            operation.send_payload("error", payload)
        self.close(4401, "token expired: reconnect with a new token (vigil token mints one)")

    def _on_subscribe(self, message: dict[str, Any]) -> None:
        if self.principal is None:
            self.close(
                4401, "subscribe before connection_ack: send connection_init, wait for the ack"
            )
            return
        op_id, payload = message.get("id"), message.get("payload")
        if not isinstance(op_id, str) or not op_id or not isinstance(payload, dict):
            self.close(4400, "Invalid subscribe message")
            return
        query = payload.get("query")
        variables = payload.get("variables") or {}
        operation_name = payload.get("operationName")
        if not isinstance(query, str) or not isinstance(variables, dict):
            self.close(4400, "Invalid subscribe message")
            return
        if op_id in self.operations:
            self.close(4409, f"Subscriber for {op_id[:40]} already exists")
            return
        operation = _Operation(self, op_id)
        if not query.strip():
            operation.send_payload(
                "error", _error("the query is empty: put a GraphQL document in payload.query")
            )
            return
        if len(self.operations) >= self.limits.max_subscriptions:
            limit = self.limits.max_subscriptions
            operation.send_payload(
                "error", _error(f"at most {limit} operations per connection", "RATE_LIMITED")
            )
            return
        self.operations[op_id] = operation
        principal = self.principal

        async def start() -> AsyncGenerator[Any, None]:
            context = self.make_context(principal, uuid.uuid4().hex)
            return await self.schema.stream(query, variables, context, None, operation_name)

        if operation_type(query, operation_name) is OperationType.SUBSCRIPTION:
            key = (
                query,
                orjson.dumps(variables, option=orjson.OPT_SORT_KEYS),
                operation_name,
                principal.fingerprint,
            )
            operation.group_key = key
            self.groups.join(key, operation, start)
        else:
            is_query = operation_type(query, operation_name) is OperationType.QUERY
            operation.task = asyncio.create_task(self._run_once(operation, start, is_query))

    async def _run_once(self, operation: _Operation, start: StartStream, timed: bool) -> None:
        """A query or mutation over the socket (or a document that does not parse): `next`
        then `complete`, or `error`; whatever happens, the operation ends and its id is free.
        A `timed` one (a query) past the query timeout is stopped and answered `TIMEOUT`."""
        try:
            limit = deadline(self.query_timeout.seconds) if timed else contextlib.nullcontext()
            async with limit:
                stream = await start()
                try:
                    async for result in stream:
                        if isinstance(result, strawberry.types.execution.PreExecutionError):
                            operation.send_payload("error", encode_errors(result))
                            return
                        operation.send_payload("next", encode_result(result))
                finally:
                    await stream.aclose()
        except TimeoutError:
            error = self.query_timeout.expired().formatted
            operation.send_payload("error", orjson.dumps([error]).decode())
            return
        except Exception:
            logger.exception("websocket operation failed")
            operation.send_payload("error", _error(INTERNAL_MESSAGE, "INTERNAL"))
            return
        operation.send_complete()


def _error(message: str, code: str = "BAD_USER_INPUT") -> str:
    return orjson.dumps([{"message": message, "extensions": {"code": code}}]).decode()
