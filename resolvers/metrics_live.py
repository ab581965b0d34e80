"""Live operations: subscriptions fed by the event bus, coalesced per tick."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from domain.matchers import TagMatcher, matches_all
from domain.metrics.ingest import SeriesSpec
from domain.metrics.model import MetricType
from schema.context import Info
from schema.inputs import TagMatcherInput, matchers_of
from schema.types import Metric

__all__ = ["TICK_SECONDS", "coalesce", "metric_collected"]

TICK_SECONDS = 0.1


async def coalesce(
    messages: AsyncIterator[dict[str, Any]], tick: float
) -> AsyncGenerator[list[dict[str, Any]], None]:
    """At most one batch per tick; a message after a quiet tick goes out at once.

    So an idle stream has millisecond latency and a busy one sends one message per tick
    instead of one per event (DESIGN.md: fewer, larger messages).
    """
    loop = asyncio.get_running_loop()
    buffer: list[dict[str, Any]] = []
    arrived = asyncio.Event()

    async def pump() -> None:
        async for message in messages:
            buffer.append(message)
            arrived.set()

    reader = asyncio.create_task(pump())
    last_sent = -tick
    try:
        while True:
            waiter = asyncio.create_task(arrived.wait())
            done, _ = await asyncio.wait({waiter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                waiter.cancel()
                if buffer:  # what arrived before the source ended is delivered first
                    yield buffer[:]
                reader.result()  # then re-raise why the source ended (a bus gap, say)
                return
            delay = last_sent + tick - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            arrived.clear()
            batch, buffer[:] = buffer[:], []
            last_sent = loop.time()
            yield batch
    finally:
        reader.cancel()


def _points(
    message: dict[str, Any], name: str | None, matchers: tuple[TagMatcher, ...]
) -> list[Metric]:
    """The message's points that this subscription asked for."""
    wanted = {
        i: SeriesSpec(
            s["id"], s["name"], s["tags"], MetricType(s["type"]), s["category"], s["source"]
        )
        for i, s in enumerate(message["series"])
        if (name is None or s["name"] == name) and matches_all(matchers, s["tags"])
    }
    if not wanted:
        return []
    project = message["project"]
    return [
        Metric.of(wanted[i].metric(project, ts, value))
        for i, ts, value in zip(
            message["series_index"], message["timestamps_us"], message["values"], strict=True
        )
        if i in wanted
    ]


async def metric_collected(
    info: Info,
    project: str,
    name: str | None = None,
    matchers: list[TagMatcherInput] | None = None,
) -> AsyncGenerator[list[Metric], None]:
    """MetricCollectedEvent: the points of each tick (at most 100 ms) that match."""
    wanted = matchers_of(matchers)
    messages = info.context.subscriber.subscribe(f"metrics.{project}")
    async for batch in coalesce(messages, TICK_SECONDS):
        points = [p for message in batch for p in _points(message, name, wanted)]
        if points:
            yield points
