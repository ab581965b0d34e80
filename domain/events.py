"""Events: what happened, past tense, and the one codec that carries them over the event bus.

An event travels as its message: `{"type": <class name>, <field>: <value>, ...}`, built by
`to_message` and read back by `from_message`, which finds the class by its name. Every
event class registers itself when it is defined, so an event is described once, by its
dataclass, for the publisher, the bus and every subscriber. Fields hold JSON values only
(text, numbers, lists and dicts of them): the message is shallow, and a columnar event
such as MetricCollectedEvent is encoded once, as the lists it already holds. A field
whose metadata is IN_PROCESS_ONLY is not in the message: the same facts in a form for the
publishing process's own handlers (a batch's columns as numpy arrays), never needed.

Channels are `<topic>.<project>`: an event class names its topic, and subscribers ask the
class for the channel (`AlertEvent.channel_for(project)`), never spell it.
"""

from __future__ import annotations

from dataclasses import fields
from types import MappingProxyType
from typing import Any, ClassVar

from domain.ports import EventPublisher

__all__ = [
    "IN_PROCESS_ONLY",
    "Event",
    "UnknownEvent",
    "event_types",
    "from_message",
    "publish_event",
    "to_message",
]

_TYPES: dict[str, type[Event]] = {}
_IN_PROCESS_ONLY = "in_process_only"
IN_PROCESS_ONLY = MappingProxyType({_IN_PROCESS_ONLY: True})  # a field's metadata


class UnknownEvent(ValueError):
    """A message that names no event class of this version, or lacks a field of it."""


class Event:
    """Base of every event: a frozen dataclass whose subclasses register by class name."""

    __slots__ = ()

    TOPIC: ClassVar[str] = ""  # the channel prefix: "metrics", "alerts", ...

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        known = _TYPES.get(cls.__name__)
        if known is not None and known.__module__ != cls.__module__:
            raise TypeError(f"two event classes are named {cls.__name__}: names must be unique")
        _TYPES[cls.__name__] = cls  # again for the class @dataclass(slots=True) rebuilds

    @classmethod
    def channel_for(cls, project: str) -> str:
        """The channel of this kind of event in `project`: what a subscriber listens to."""
        return f"{cls.TOPIC}.{project}"

    def channel(self) -> str:
        """The channel this event is published on, scoped by its project."""
        return self.channel_for(getattr(self, "project"))  # noqa: B009 (every event has one)


def event_types() -> dict[str, type[Event]]:
    """Every event class defined so far, by its name (what a message's `type` holds)."""
    return dict(_TYPES)


def to_message(event: Event) -> dict[str, Any]:
    """An event as a JSON-ready dict; shallow on purpose, the columns are already lists.
    Fields marked IN_PROCESS_ONLY are left out."""
    message: dict[str, Any] = {"type": type(event).__name__}
    for name in _carried(type(event)):
        message[name] = getattr(event, name)
    return message


def from_message(message: dict[str, Any]) -> Event:
    """The event a message carries; keys that are not fields (an `origin`) are ignored.

    Raise UnknownEvent for a type this version does not define or a missing field.
    """
    kind = _TYPES.get(str(message.get("type")))
    if kind is None:
        raise UnknownEvent(f"no event type {message.get('type')!r}")
    try:
        return kind(**{name: message[name] for name in _carried(kind)})
    except (KeyError, TypeError) as exc:
        raise UnknownEvent(f"a {kind.__name__} message lacks {exc}") from None


def _carried(kind: type[Event]) -> list[str]:
    """The names of the fields a message carries (all but IN_PROCESS_ONLY ones)."""
    return [
        f.name
        for f in fields(kind)  # type: ignore[arg-type]
        if not f.metadata.get(_IN_PROCESS_ONLY)
    ]


async def publish_event(event: Event, *, publisher: EventPublisher) -> None:
    """The event handler that puts an event on the event bus for subscribers."""
    await publisher.publish(event)
