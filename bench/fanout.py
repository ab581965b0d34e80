"""Fan-out: 1,000 websocket subscribers of one project while 100 points/s are published.

Both targets get the same traffic:

- 4 client processes x 250 sockets (bench/wsclient.py, no compression) speak
  `graphql-transport-ws`: connection_init with the bearer token, then
  `subscription { metricCollected(project: "bench") { name value timestamp } }`.
- Before any client connects, the publisher sends 100 points/s for 3 s to measure what
  the server spends on ingest alone (`ingest_only`).
- Warm-up: the publisher sends a point (value -1) every 100 ms until every socket has
  received one, so every subscription is known to be live; then 1 s of quiet.
- Measured phase: the publisher (this process) POSTs 2,000 single-point batches, one
  every 10 ms (100 points/s for 20 s), each without waiting for the previous answer. A
  point's value is its send time (epoch seconds), so it names the point uniquely.
  Receivers note the receipt time of every point; latency = receipt time - the time the
  publisher got the HTTP acknowledgement (every process shares the machine's clock).
- A request still unanswered 10 s after the last send is given up (`acknowledged` <
  `published`: the server could not keep up with 100 points/s). Then the publisher waits
  until every socket has every acknowledged point (at most 15 s; what is missing then is
  `lost`), and the clients write what they received to .npy files for the analysis.

Vigil is `createMetrics` at `/graphql`; the baseline (bench/baselines.py) is a naive
Starlette websocket fan-out fed by `POST /publish` with the same body: it sends one
message per point per subscriber (Vigil coalesces a tick's points into one message).
Server CPU is the psutil `cpu_times` delta of the server process (all threads) from the
first publish to the end of the drain; `cpu` says how busy the whole machine was
meanwhile, and how much of that was someone else. Because a side that
saturates answers fewer points and keeps burning CPU while the publisher waits for answers
that never come, each side also reports CPU per point acknowledged within the 20 s of
sending (`schedule_window`), the ratio uses that, and `saturated` says which side could
not keep up and why.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable
from typing import Any

import orjson
import psutil

from bench.common import (
    PROJECT,
    Context,
    CpuWatch,
    Server,
    log,
    machine,
    now_iso,
    raise_nofile,
    ratio,
    start_baseline,
    start_vigil,
    token,
)
from bench.fanout_clients import CLIENTS, SOCKETS_PER_CLIENT, SubscriberClient, start_clients
from bench.fanout_stats import ack_latency, ack_rate, analyse
from bench.rawhttp import RawHTTP

__all__ = ["run"]

RATE = 100  # points per second
SECONDS = 20
INGEST_ONLY_SECONDS = 3
DRAIN_TIMEOUT = 15.0  # after the last acknowledgement, for every socket to get every point
ACK_TIMEOUT = 10.0  # after the last send, for the publisher's requests to be answered
NAME = "bench.fanout"
TARGET_P99_MS = 250.0

MUTATION = (
    "mutation Publish($project: String!, $points: PointBatch!) "
    "{ createMetrics(project: $project, points: $points) { accepted } }"
)


def _body(value: float, stamp_ms: int) -> bytes:
    point = {"name": NAME, "value": value, "timestamp": stamp_ms}
    return orjson.dumps({"query": MUTATION, "variables": {"project": PROJECT, "points": [point]}})


class _Publisher:
    def __init__(self, url: str, headers: dict[str, str]) -> None:
        self.client = RawHTTP(url, headers, connections=16)
        self.failures: list[str] = []
        self.schedule_seconds = 0.0

    async def post(self, body: bytes) -> float | None:
        """Send one point; return the acknowledgement time, or None if refused."""
        try:
            status, content = await self.client.post(body)
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.failures.append(repr(exc)[:200])
            return None
        ack = time.time()
        if status != 200 or b'"accepted":1' not in content:
            self.failures.append(f"{status} {content[:200]!r}")
            return None
        return ack

    async def paced(
        self,
        count: int,
        rate: int,
        value: Any = None,
        ack_timeout: float = ACK_TIMEOUT,
        on_last_send: Callable[[], None] | None = None,
    ) -> dict[float, float | None]:
        """`count` points at `rate`/s, each sent on schedule without waiting for the last;
        send time -> acknowledgement time (None: refused, or not acknowledged within
        `ack_timeout` s after the last send). `on_last_send` runs as the schedule ends."""
        sends: dict[float, asyncio.Task[float | None]] = {}
        interval = 1.0 / rate
        start = time.monotonic()
        try:
            for i in range(count):
                delay = start + i * interval - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent = time.time()
                v = sent if value is None else value
                body = _body(v, int(sent * 1000))
                sends[sent] = asyncio.create_task(self.post(body))
            self.schedule_seconds = time.monotonic() - start
            if on_last_send is not None:
                on_last_send()
            if sends:
                await asyncio.wait(sends.values(), timeout=ack_timeout)
        finally:
            for task in sends.values():
                task.cancel()
        return {s: t.result() if t.done() and not t.cancelled() else None for s, t in sends.items()}

    async def close(self) -> None:
        await self.client.close()


async def _measure(
    ctx: Context, label: str, server: Server, publish_url: str, ws_url: str, auth: str
) -> dict[str, Any]:
    headers = {"authorization": f"Bearer {auth}"} if auth else {}
    publisher = _Publisher(publish_url, headers)
    clients: list[SubscriberClient] = []
    try:
        await publisher.client.open()
        # 1. Ingest alone: what the server spends on 100 points/s with nobody listening.
        await publisher.paced(10, RATE, value=0.0)  # warm the connection pool
        cpu0, wall0 = server.cpu_seconds(), time.monotonic()
        alone = await publisher.paced(INGEST_ONLY_SECONDS * RATE, RATE, value=0.0)
        alone_cpu, alone_s = server.cpu_seconds() - cpu0, time.monotonic() - wall0
        alone_acked = sum(ack is not None for ack in alone.values())
        ingest_only = {
            "acknowledged": alone_acked,
            "of": len(alone),
            "ack_rate_per_s": ack_rate({s: a for s, a in alone.items() if a is not None}),
            "server_cpu_cores": round(alone_cpu / alone_s, 3),
            "server_cpu_ms_per_point": round(alone_cpu * 1000 / max(1, alone_acked), 2),
        }

        # 2. Subscribers, then a warm-up until every socket receives.
        started = time.monotonic()
        clients = await start_clients(ctx, label, ws_url, auth or "none")
        await asyncio.gather(*(c.expect("subscribed", 90) for c in clients))
        connect_s = time.monotonic() - started
        log(
            f"fanout {label}: {CLIENTS * SOCKETS_PER_CLIENT} sockets subscribed "
            f"in {connect_s:.1f} s"
        )
        warm = asyncio.create_task(publisher.paced(300, 10, value=-1.0))
        try:
            await asyncio.gather(*(c.expect("live", 30) for c in clients))
        finally:
            warm.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await warm
        await asyncio.sleep(1.0)
        for c in clients:
            await c.send("record")
            await c.expect("recording", 10)

        # 3. The measured phase.
        for c in clients:
            c.cpu0 = c.cpu_seconds()
        pub0 = psutil.Process().cpu_times()
        watch = CpuWatch([server.pid, os.getpid(), *(c.process.pid for c in clients)])
        cpu0, wall0 = server.cpu_seconds(), time.monotonic()
        at_schedule_end: list[float] = []

        def mark() -> None:
            at_schedule_end[:] = [server.cpu_seconds() - cpu0, time.time()]

        acks = await publisher.paced(RATE * SECONDS, RATE, on_last_send=mark)
        schedule_s = publisher.schedule_seconds
        schedule_cpu, schedule_end = at_schedule_end
        acked = {sent: ack for sent, ack in acks.items() if ack is not None}
        expected = len(acked) * CLIENTS * SOCKETS_PER_CLIENT
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while True:
            for c in clients:
                await c.send("count")
            received = sum([int(await c.expect("count ", 10)) for c in clients])
            if received >= expected or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.25)
        window = time.monotonic() - wall0
        server_cpu = server.cpu_seconds() - cpu0
        machine_cpu = watch.stop()
        pub1 = psutil.Process().cpu_times()
        clients_cpu = [round(c.cpu_seconds() - c.cpu0, 2) for c in clients]

        # 4. Collect.
        summaries = []
        for c in clients:
            await c.send("stop")
            summaries.append(orjson.loads(await c.expect("done ", 60)))
            await asyncio.wait_for(c.process.wait(), 30)
    finally:
        await publisher.close()
        for c in clients:
            if c.process.returncode is None:
                c.process.kill()
                await c.process.wait()

    stats = analyse(
        [(c.index, c.out) for c in clients],
        acked,
        clients=CLIENTS,
        sockets_per_client=SOCKETS_PER_CLIENT,
    )
    return {
        **stats,
        "published": len(acks),
        "acknowledged": len(acked),
        "publish_failures": publisher.failures[:3],
        "send_rate_per_s": round(len(acks) / schedule_s, 1) if schedule_s else None,
        "ack_rate_per_s": ack_rate(acked),
        "ack_ms": ack_latency(acked),
        "expected_deliveries": expected,
        "messages_received": sum(s["messages"] for s in summaries),
        "points_per_message": round(
            stats["deliveries"] / max(1, sum(s["messages"] for s in summaries)), 2
        ),
        "sockets_closed_early": {
            k: v for s in summaries for k, v in s["closed_before_stop"].items()
        },
        "client_errors": sum(s["error_count"] for s in summaries),
        "connect_seconds": round(connect_s, 1),
        "window_seconds": round(window, 2),
        "server_cpu_seconds": round(server_cpu, 2),
        "server_cpu_cores": round(server_cpu / window, 3),
        "server_cpu_ms_per_point": round(server_cpu * 1000 / max(1, len(acked)), 2),
        "server_cpu_us_per_delivery": round(server_cpu * 1e6 / max(1, stats["deliveries"]), 1),
        # Equal windows for both sides: the 20 s of sending, and the points acknowledged in
        # them, so time spent waiting for answers that never came counts for neither.
        "schedule_window": {
            "seconds": round(schedule_s, 2),
            "server_cpu_seconds": round(schedule_cpu, 2),
            "points_acknowledged": sum(a <= schedule_end for a in acked.values()),
            "server_cpu_ms_per_acknowledged_point": round(
                schedule_cpu * 1000 / max(1, sum(a <= schedule_end for a in acked.values())), 2
            ),
        },
        "saturated": _saturation(len(acks), acked, schedule_s, window),
        "ingest_only": ingest_only,
        "clients_cpu_seconds": clients_cpu,
        "cpu": machine_cpu,
        "publisher_cpu_seconds": round((pub1.user + pub1.system) - (pub0.user + pub0.system), 2),
    }


def _saturation(
    published: int, acked: dict[float, float], schedule_s: float, window_s: float
) -> str | None:
    """Why a side could not keep up with the offered load, or None if it did."""
    if len(acked) < published:
        return f"answered {len(acked)} of {published} requests"
    rate = ack_rate(acked) or 0.0
    if rate < 0.95 * RATE:
        return f"acknowledged {rate:.0f} points/s of {RATE}"
    if window_s > schedule_s + 2.0:
        return f"delivered the last point {window_s - schedule_s:.1f} s after the last send"
    return None


async def _run(ctx: Context) -> dict[str, Any]:
    raise_nofile()
    db = ctx.tmp / "fanout.duckdb"
    auth = token(db)
    with start_vigil(db, ctx.tmp) as server:
        vigil = await _measure(
            ctx, "vigil", server, f"{server.url}/graphql", f"{server.ws_url}/graphql", auth
        )
    log(
        f"fanout vigil: lost {vigil['lost']}, p99 {vigil['latency_ms']['p99']} ms, "
        f"cpu {vigil['server_cpu_cores']} cores"
    )
    with start_baseline(ctx.tmp) as server:
        base = await _measure(
            ctx, "baseline", server, f"{server.url}/publish", f"{server.ws_url}/graphql", auth
        )
    log(
        f"fanout baseline: lost {base['lost']}, p99 {base['latency_ms']['p99']} ms, "
        f"cpu {base['server_cpu_cores']} cores"
    )
    for side, result in (("vigil", vigil), ("baseline", base)):
        saturated = result["saturated"]
        log(f"fanout {side}: {'saturated: ' + saturated if saturated else 'kept up'}")
    p99 = vigil["latency_ms"]["p99"]
    return {
        "benchmark": "fanout",
        "date": now_iso(),
        "machine": machine(),
        "workload": {
            "subscribers": CLIENTS * SOCKETS_PER_CLIENT,
            "client_processes": CLIENTS,
            "points_per_s": RATE,
            "seconds": SECONDS,
            "points": RATE * SECONDS,
        },
        "vigil": vigil,
        "baseline": base,
        "saturated": {"vigil": vigil["saturated"], "baseline": base["saturated"]},
        "ratios": {
            # CPU per point acknowledged within the equal sending windows: fair when one
            # side saturates and answers fewer points.
            "server_cpu_per_acknowledged_point_in_schedule": ratio(
                vigil["schedule_window"]["server_cpu_ms_per_acknowledged_point"],
                base["schedule_window"]["server_cpu_ms_per_acknowledged_point"],
            ),
            "latency_p50": ratio(vigil["latency_ms"]["p50"] or 0, base["latency_ms"]["p50"] or 0),
            "latency_p99": ratio(p99 or 0, base["latency_ms"]["p99"] or 0),
            "server_cpu": ratio(vigil["server_cpu_seconds"], base["server_cpu_seconds"]),
            # The two sides may not get through the same number of points: per point too.
            "server_cpu_per_point": ratio(
                vigil["server_cpu_ms_per_point"], base["server_cpu_ms_per_point"]
            ),
        },
        "targets": {"lost": 0, "p99_ms_max": TARGET_P99_MS, "cpu_ratio_max": 1.0},
        "met": {
            "no_point_lost": vigil["lost"] == 0,
            "all_acknowledged": vigil["acknowledged"] == vigil["published"],
            "p99": p99 is not None and p99 < TARGET_P99_MS,
            "cpu": vigil["server_cpu_seconds"] <= base["server_cpu_seconds"],
        },
    }


def run(ctx: Context) -> dict[str, Any]:
    return asyncio.run(_run(ctx))
