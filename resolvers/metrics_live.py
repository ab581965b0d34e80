"""Live operations: subscriptions fed by the event bus, coalesced per tick."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TypeVar

from domain.matchers import TagMatcher, matches_all
from domain.metrics.events import MetricCollectedEvent
from domain.metrics.ingest import SeriesSpec
from domain.metrics.model import MetricType
from schema.context import Info
from schema.inputs import TagMatcherInput, matchers_of
from schema.types import Metric

__all__ = ["TICK_SECONDS", "coalesce", "metric_collected"]

TICK_SECONDS = 0.1

E = TypeVar("E")


async def coalesce(events: AsyncIterator[E], tick: float) -> AsyncGenerator[list[E], None]:
    """At most one batch per tick; a message after a quiet tick goes out at once.

    So an idle stream has millisecond latency and a busy one sends one message per tick
    instead of one per event (DESIGN.md: fewer, larger messages).
    """
    loop = asyncio.get_running_loop()
    buffer: list[E] = []
    arrived = asyncio.Event()

    async def pump() -> None:
        async for event in events:
            buffer.append(event)
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
    event: MetricCollectedEvent, name: str | None, matchers: tuple[TagMatcher, ...]
) -> list[Metric]:
    """The event's points that this subscription asked for."""
    wanted = {
        i: SeriesSpec(
            s["id"], s["name"], s["tags"], MetricType(s["type"]), s["category"], s["source"]
        )
        for i, s in enumerate(event.series)
        if (name is None or s["name"] == name) and matches_all(matchers, s["tags"])
    }
    if not wanted:
        return []
    project = event.project
    return [
        Metric.of(wanted[i].metric(project, ts, value))
        for i, ts, value in zip(event.series_index, event.timestamps_us, event.values, strict=True)
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
    events = info.context.subscriber.subscribe(MetricCollectedEvent.channel_for(project))
    async for batch in coalesce(events, TICK_SECONDS):
        points = [
            p
            for e in batch
            if isinstance(e, MetricCollectedEvent)
            for p in _points(e, name, wanted)
        ]
        if points:
            yield points
