"""NotificationSentEvent: one attempt of a delivery, published on `notifications.<project>`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from domain.events import Event

__all__ = ["NotificationSentEvent"]


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
