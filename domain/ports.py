"""Kernel ports: the clock and the event bus, which every feature may use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

__all__ = ["Clock", "EventPublisher", "EventSubscriber"]


class EventPublisher(Protocol):
    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...


class EventSubscriber(Protocol):
    def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        """Messages of one channel, as published, until the caller stops iterating."""
        ...


class Clock(Protocol):
    def now_us(self) -> int: ...
