"""Events: what happened, past tense, published on the event bus after the fact."""

from __future__ import annotations

import abc
from dataclasses import fields
from typing import Any

from domain.ports import EventPublisher

__all__ = ["Event", "publish_event", "to_message"]


class Event(abc.ABC):
    """Base of every event; each names the bus channel it travels on."""

    __slots__ = ()

    @abc.abstractmethod
    def channel(self) -> str:
        """The event-bus channel, scoped by project so subscribers see only their own."""


def to_message(event: Event) -> dict[str, Any]:
    """An event as a JSON-ready dict; shallow on purpose, the columns are already lists."""
    message: dict[str, Any] = {"type": type(event).__name__}
    for f in fields(event):  # type: ignore[arg-type]
        message[f.name] = getattr(event, f.name)
    return message


async def publish_event(event: Event, *, publisher: EventPublisher) -> None:
    """The event handler that puts an event on the event bus for subscribers."""
    await publisher.publish(event.channel(), to_message(event))
