"""Domain events over the EventBus: the EventPublisher and EventSubscriber ports.

Events go out as their message (domain.events.to_message), stamped with the name of the
process that published them, and come back typed (from_message). Control messages that are
not events (alerting's requests and answers) use the EventBus directly.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator

from domain.events import Event, UnknownEvent, from_message, to_message
from infra.bus.bus import EventBus

__all__ = ["ORIGIN", "EventStream", "LiveStreams"]

logger = logging.getLogger("vigil.bus")

ORIGIN = "origin"  # the message key naming the publishing process


class LiveStreams:
    """The event streams open through `EventStream.subscribe`, per channel, counted from
    the moment the bus serves them: a stream counted here receives every event published
    afterwards. What a caller (a test, say) awaits to know a live subscription is in place.
    """

    def __init__(self) -> None:
        self._open: Counter[str] = Counter()

    def count(self, channel: str) -> int:
        return self._open[channel]

    def opened(self, channel: str) -> None:
        self._open[channel] += 1

    def closed(self, channel: str) -> None:
        self._open[channel] -= 1
        if self._open[channel] <= 0:
            del self._open[channel]


class EventStream:
    """Publish and subscribe typed events; `skipped` counts messages that were no event of
    this version (a newer instance's event during a rolling upgrade, say); `live`, if
    given, counts the streams of `subscribe` while they are served."""

    def __init__(self, bus: EventBus, *, origin: str = "", live: LiveStreams | None = None) -> None:
        self.bus = bus
        self.origin = origin
        self.skipped = 0
        self.live = live

    async def publish(self, event: Event) -> None:
        message = to_message(event)
        if self.origin:
            message[ORIGIN] = self.origin
        await self.bus.publish(event.channel(), message)

    async def subscribe(self, channel: str) -> AsyncIterator[Event]:
        live, counted = self.live, False

        def attached() -> None:
            nonlocal counted
            if live is not None:
                live.opened(channel)
                counted = True

        subscription = self.bus.subscribe(channel, on_attached=attached)
        try:
            async for message in subscription:
                try:
                    yield from_message(message)
                except UnknownEvent as exc:
                    self.skipped += 1
                    logger.warning("skipped a message on %s: %s", channel, exc)
        finally:
            if counted and live is not None:
                live.closed(channel)
            await subscription.aclose()
