"""Domain events over the EventBus: the EventPublisher and EventSubscriber ports.

Events go out as their message (domain.events.to_message), stamped with the name of the
process that published them, and come back typed (from_message). Control messages that are
not events (alerting's requests and answers) use the EventBus directly.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from domain.events import Event, UnknownEvent, from_message, to_message
from infra.bus.bus import EventBus

__all__ = ["ORIGIN", "EventStream"]

logger = logging.getLogger("vigil.bus")

ORIGIN = "origin"  # the message key naming the publishing process


class EventStream:
    """Publish and subscribe typed events; `skipped` counts messages that were no event of
    this version (a newer instance's event during a rolling upgrade, say)."""

    def __init__(self, bus: EventBus, *, origin: str = "") -> None:
        self.bus = bus
        self.origin = origin
        self.skipped = 0

    async def publish(self, event: Event) -> None:
        message = to_message(event)
        if self.origin:
            message[ORIGIN] = self.origin
        await self.bus.publish(event.channel(), message)

    async def subscribe(self, channel: str) -> AsyncIterator[Event]:
        subscription = self.bus.subscribe(channel)
        try:
            async for message in subscription:
                try:
                    yield from_message(message)
                except UnknownEvent as exc:
                    self.skipped += 1
                    logger.warning("skipped a message on %s: %s", channel, exc)
        finally:
            await subscription.aclose()
