"""Baselines: a plain Starlette app doing the simplest work the same traffic needs.

Run as its own uvicorn process (`python -m bench.baselines --port N`), with the same
uvicorn settings `vigil serve` uses, so that both sides pay for the same HTTP and
websocket machinery and differ only in what Vigil adds.

- `POST /ingest`: decode the JSON body with orjson, count the points, answer a small JSON.
  Nothing is validated or stored.
- `POST /publish` + websocket `/graphql`: a naive fan-out. Each point POSTed becomes one
  message sent to every connected subscriber (no coalescing, which Vigil does: this is
  the simplest fan-out, not the least work), through one queue and one
  writer task per connection. The socket speaks just enough `graphql-transport-ws`
  (connection_init -> connection_ack, subscribe) for the benchmark's clients to be the
  very same code for Vigil and for the baseline; the token is not checked.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

__all__ = ["create_app"]

_JSON = "application/json"


class _Subscriber:
    __slots__ = ("prefix", "queue")

    def __init__(self, op_id: str) -> None:
        self.prefix = '{"id":' + orjson.dumps(op_id).decode() + ',"type":"next","payload":'
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()


def create_app() -> Starlette:
    subscribers: set[_Subscriber] = set()

    async def ingest(request: Request) -> Response:
        body = orjson.loads(await request.body())
        accepted = len(body["variables"]["points"])
        return Response(
            orjson.dumps({"data": {"createMetrics": {"accepted": accepted}}}), 200, media_type=_JSON
        )

    async def publish(request: Request) -> Response:
        body = orjson.loads(await request.body())
        points = body["variables"]["points"]
        for point in points:
            event = {
                "name": point["name"],
                "value": point["value"],
                "timestamp": point.get("timestamp"),
            }
            payload = orjson.dumps({"data": {"metricCollected": [event]}}).decode()
            for sub in subscribers:
                sub.queue.put_nowait(sub.prefix + payload + "}")
        return Response(
            orjson.dumps({"data": {"createMetrics": {"accepted": len(points)}}}),
            200,
            media_type=_JSON,
        )

    async def healthz(request: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type=_JSON)

    async def socket(websocket: WebSocket) -> None:
        await websocket.accept(subprotocol="graphql-transport-ws")
        subscriber: _Subscriber | None = None
        writer: asyncio.Task[None] | None = None

        async def write(sub: _Subscriber) -> None:
            while (text := await sub.queue.get()) is not None:
                await websocket.send_text(text)

        try:
            while True:
                message = orjson.loads(await websocket.receive_text())
                kind = message.get("type")
                if kind == "connection_init":
                    await websocket.send_text('{"type":"connection_ack"}')
                elif kind == "subscribe" and subscriber is None:
                    subscriber = _Subscriber(message["id"])
                    writer = asyncio.create_task(write(subscriber))
                    subscribers.add(subscriber)
                elif kind == "ping":
                    await websocket.send_text('{"type":"pong"}')
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            if subscriber is not None:
                subscribers.discard(subscriber)
            if writer is not None:
                writer.cancel()
                with contextlib.suppress(BaseException):
                    await writer

    return Starlette(
        routes=[
            Route("/ingest", ingest, methods=["POST"]),
            Route("/publish", publish, methods=["POST"]),
            Route("/healthz", healthz),
            WebSocketRoute("/graphql", socket),
        ]
    )


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m bench.baselines")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    # The settings `vigil serve` passes to uvicorn (infra/cli.py), websocket size included.
    uvicorn.run(
        create_app(), host="127.0.0.1", port=args.port, ws_max_size=64 * 1024, log_level="info"
    )


if __name__ == "__main__":
    main()
