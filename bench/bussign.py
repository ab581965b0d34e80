"""What signing event-bus messages costs (issue 12, item 18).

In one run, on the real Redis at 127.0.0.1:6379 (VIGIL_BENCH_REDIS_URL): one EventBus
publishes MESSAGES messages the size of a metricCollected tick of 100 points to a
subscriber of a second EventBus, first without a secret, then with one (sign on publish,
check on receipt), alternating ROUNDS times; the result is the ratio of the signed median
time to the unsigned one, and the CPU time of sign + verify alone per message.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from typing import Any

from bench.common import Context, log, median, ratio
from infra.bus import EventBus
from infra.bus.codec import Signer, encode

MESSAGES = 5_000
ROUNDS = 3
REDIS_URL = os.environ.get("VIGIL_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def _message(i: int) -> dict[str, Any]:
    point = {"name": "cpu", "value": 0.5, "tags": {"host": "web-1", "dc": "eu"}, "ts": 1}
    return {"type": "MetricCollected", "project": "bench", "seq": i, "values": [point] * 100}


async def _one_round(secret: bytes | None) -> float:
    channel = f"bench-sign-{uuid.uuid4().hex[:8]}"
    messages = [_message(i) for i in range(MESSAGES)]
    async with (
        EventBus(REDIS_URL, queue_size=MESSAGES, secret=secret) as publisher,
        EventBus(REDIS_URL, queue_size=MESSAGES, secret=secret) as listener,
        listener.subscribe(channel) as subscription,
    ):
        started = time.perf_counter()
        for message in messages:
            await publisher.publish(channel, message)
        for _ in range(MESSAGES):
            await subscription.__anext__()
        elapsed = time.perf_counter() - started
        assert listener.rejected == 0
    return elapsed


def _sign_and_verify_us() -> float:
    signer = Signer(os.urandom(32))
    text = encode(_message(0))
    started = time.perf_counter()
    for _ in range(MESSAGES):
        assert signer.verify("metric.bench", signer.sign("metric.bench", text)) is not None
    return (time.perf_counter() - started) / MESSAGES * 1e6


def run(ctx: Context) -> dict[str, Any]:
    plain: list[float] = []
    signed: list[float] = []
    for n in range(ROUNDS):
        plain.append(asyncio.run(_one_round(None)))
        signed.append(asyncio.run(_one_round(os.urandom(32))))
        log(f"bussign round {n + 1}: unsigned {plain[-1]:.2f} s, signed {signed[-1]:.2f} s")
    size = len(encode(_message(0)))
    return {
        "benchmark": "bussign",
        "messages": MESSAGES,
        "message_bytes": size,
        "unsigned_seconds": round(median(plain), 3),
        "signed_seconds": round(median(signed), 3),
        "signed_over_unsigned": ratio(median(signed), median(plain)),
        "sign_and_verify_us_per_message": round(_sign_and_verify_us(), 1),
    }
