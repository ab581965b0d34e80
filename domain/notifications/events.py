"""Notification events, published on `notifications.<project>`: NotificationSentEvent (one
attempt of a delivery) and NotificationChannelDisabledEvent (Vigil disabled a channel)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from domain.events import Event

__all__ = ["NotificationChannelDisabledEvent", "NotificationSentEvent"]


@dataclass(frozen=True, slots=True)
class NotificationSentEvent(Event):
    """A delivery was attempted: `state` says whether it is delivered, will be retried
    (pending) or gave up (dead). Names no secret and no receiver answer."""

    project: str
    delivery_id: str
    channel_id: str
    channel_name: str
    kind: str
    reason: str
    status: str
    title: str
    state: str
    attempt: int
    status_code: int | None
    latency_ms: float
    error: str
    at_us: int

    TOPIC: ClassVar[str] = "notifications"


@dataclass(frozen=True, slots=True)
class NotificationChannelDisabledEvent(Event):
    """Vigil disabled a channel by itself: its receiver said it is gone for good (HTTP 410),
    so nothing more is sent to it until an admin enables it again."""

    project: str
    channel_id: str
    channel_name: str
    kind: str
    reason: str
    delivery_id: str  # the delivery whose attempt was answered so
    at_us: int

    TOPIC: ClassVar[str] = "notifications"
