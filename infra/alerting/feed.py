"""The points other processes ingest, for the alerts this process evaluates.

A process evaluates the points it ingests itself in the ingest command (the fastest path).
Points ingested by another process reach it over the event bus: every message published
through `EventStream` names the process it came from, and `RemoteFeed` follows the
`metrics.<project>` channels of the projects whose alerts this process evaluates, skipping
its own messages. When the bus reports a gap or a full buffer, points were missed: the
feed asks for the windows to be refilled from the store, which holds every acknowledged
point.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from typing import Any

from domain.events import UnknownEvent, from_message
from domain.metrics.events import MetricCollectedEvent
from infra.alerting.following import follow, wait_all
from infra.bus import ORIGIN, EventBus

__all__ = ["RemoteFeed"]

QUEUE_BATCHES = 10_000  # buffered batches per project before the oldest is dropped
SUBSCRIBE_SECONDS = 2.0


class RemoteFeed:
    """Follows one `metrics.<project>` channel per project named in `follow`."""

    def __init__(
        self,
        bus: EventBus,
        origin: str,
        deliver: Callable[[MetricCollectedEvent], Awaitable[None]],
        on_gap: Callable[[], Awaitable[None]],
    ) -> None:
        self._bus = bus
        self._origin = origin
        self._deliver = deliver
        self._on_gap = on_gap
        self._pumps: dict[str, asyncio.Task[None]] = {}

    @property
    def projects(self) -> frozenset[str]:
        return frozenset(self._pumps)

    async def follow(self, projects: frozenset[str]) -> None:
        """Follow exactly these projects; returns once the new ones are subscribed (or
        after `SUBSCRIBE_SECONDS` if the bus is down: they keep trying)."""
        for project in self._pumps.keys() - projects:
            self._pumps.pop(project).cancel()
        started = []
        for project in projects - self._pumps.keys():
            subscribed = asyncio.Event()
            pump = follow(
                self._bus,
                MetricCollectedEvent.channel_for(project),
                functools.partial(self._receive, project),
                ready=subscribed,
                on_gap=self._on_gap,
                queue_size=QUEUE_BATCHES,
            )
            self._pumps[project] = asyncio.create_task(pump)
            started.append(subscribed)
        await wait_all(started, SUBSCRIBE_SECONDS)

    async def close(self) -> None:
        pumps, self._pumps = list(self._pumps.values()), {}
        for task in pumps:
            task.cancel()
        for task in pumps:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _receive(self, project: str, message: dict[str, Any]) -> None:
        if message.get(ORIGIN) == self._origin:
            return  # ingested here: evaluated in the ingest command already
        try:
            event = from_message(message)
        except UnknownEvent:
            return
        if isinstance(event, MetricCollectedEvent) and event.project == project:
            await self._deliver(event)
