"""The alert benchmark's probe: the `alertTriggered` subscriber and the timed crossings
(bench/alerts.py describes the benchmark)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from typing import Any, cast

import orjson

from bench.common import PROJECT, Server
from bench.rawhttp import RawHTTP
from bench.wsclient import _Socket

__all__ = ["NAME", "Sink", "check", "crossings", "ingest_body", "subscribe"]

NAME = "bench.metric"
CROSS_EVERY_S = 0.2
CROSS_VALUE = 5000.0

INGEST = (
    "mutation Ingest($project: String!, $points: PointBatch!) "
    "{ createMetrics(project: $project, points: $points) { accepted } }"
)
SUBSCRIPTION = (
    'subscription { alertTriggered(project: "' + PROJECT + '") { alertId value reason } }'
)


def ingest_body(points: list[dict[str, Any]]) -> bytes:
    return orjson.dumps({"query": INGEST, "variables": {"project": PROJECT, "points": points}})


class Sink:
    """What the subscriber received: (alertId, receipt time), in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, float]] = []
        self.errors: list[str] = []
        self.arrived = asyncio.Event()

    def message(self, sock: _Socket, raw: bytes, t: float) -> None:
        message = orjson.loads(raw)
        if message.get("type") != "next":
            self.errors.append(str(message)[:300])
            return
        self.events.append((message["payload"]["data"]["alertTriggered"]["alertId"], t))
        self.arrived.set()

    def closed(self, sock: _Socket) -> None:
        pass


async def subscribe(server: Server, auth: str, sink: Sink) -> _Socket:
    loop = asyncio.get_running_loop()
    host = f"127.0.0.1:{server.port}"
    _, sock = await loop.create_connection(
        lambda: _Socket(0, host, "/graphql", cast(Any, sink)), "127.0.0.1", server.port
    )
    await asyncio.wait_for(sock.opened, 30)
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {auth}"}}
    sock.send_text(orjson.dumps(init).decode())
    ack = orjson.loads(await asyncio.wait_for(sock.first, 30))
    if ack.get("type") != "connection_ack":
        raise ConnectionError(f"no connection_ack but {ack}")
    sub = {"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}}
    sock.send_text(orjson.dumps(sub).decode())
    await asyncio.sleep(0.5)  # let the subscription register
    return sock


def check(status: int, content: bytes, field: str) -> dict[str, Any]:
    answer = orjson.loads(content) if content else {}
    if status != 200 or answer.get("errors") or not answer.get("data"):
        raise RuntimeError(f"{field} refused: {status} {content[:500]!r}")
    return dict(answer["data"])


async def crossings(
    url: str, headers: dict[str, str], series: list[int], sink: Sink, owner: dict[str, int]
) -> dict[str, Any]:
    """Cross the threshold once on each of `series`; latency ack -> first alertTriggered."""
    sent: dict[int, tuple[float, float]] = {}  # series -> (send, ack)
    client = RawHTTP(url, headers, 1)  # its own connection: never queued behind the load
    await client.open()
    start = len(sink.events)

    async def cross(s: int) -> None:
        body = ingest_body([{"name": NAME, "value": CROSS_VALUE, "tags": {"series": f"s{s}"}}])
        t_send = time.time()
        status, content = await client.post(body)
        t_ack = time.time()
        check(status, content, "createMetrics")
        sent[s] = (t_send, t_ack)

    t0, tasks = time.perf_counter(), []
    for i, s in enumerate(series):
        delay = t0 + i * CROSS_EVERY_S - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(cross(s)))
    await asyncio.wait(tasks, timeout=30.0)
    await client.close()
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        got = {owner.get(a) for a, _ in sink.events[start:]}
        if all(s in got for s in sent):
            break
        sink.arrived.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(sink.arrived.wait(), 0.5)
    first: dict[int, float] = {}
    for alert_id, t in sink.events[start:]:
        s = owner.get(alert_id, -1)
        if s in sent and s not in first:
            first[s] = t
    ack_ms = sorted((first[s] - sent[s][1]) * 1000 for s in first)
    send_ms = sorted((first[s] - sent[s][0]) * 1000 for s in first)
    return {
        "crossings": len(series),
        "acknowledged": len(sent),
        "events_received": len(first),
        "missing": len(sent) - len(first),
        "ack_to_event_ms": _percentiles(ack_ms),
        "send_to_event_ms": _percentiles(send_ms),
        "ack_latency_ms_of_crossing": {
            "median": _pct(sorted((a - s) * 1000 for s, a in sent.values()), 50)
        },
    }


def _pct(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile of sorted values: the smallest value with at least q% of the
    values at or below it (p99 of 200 is the 198th; of 50 it would be the maximum)."""
    if not values:
        return None
    k = min(len(values) - 1, max(0, math.ceil(q / 100 * len(values)) - 1))
    return round(values[k], 2)


def _percentiles(values: list[float]) -> dict[str, float | None]:
    keys = {"min": 0, "p50": 50, "p90": 90, "p99": 99, "max": 100}
    return {k: _pct(values, q) for k, q in keys.items()}
