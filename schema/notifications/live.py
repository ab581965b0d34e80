"""NotificationSent: what `notificationSent` subscribers receive, one per attempt."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.notifications import DeliveryState
from schema.notifications.types import NotificationDeliveryState
from schema.types import from_us

__all__ = ["NotificationSent"]


@strawberry.type(description="A delivery was attempted (NotificationSentEvent).")
class NotificationSent:
    project: str
    delivery_id: strawberry.ID
    channel_id: strawberry.ID
    channel_name: str
    kind: str
    reason: str
    status: str
    title: str
    state: NotificationDeliveryState  # type: ignore[valid-type]
    attempt: int
    status_code: int | None
    latency_ms: float
    error: str
    at: datetime

    @classmethod
    def of(cls, m: dict[str, Any]) -> NotificationSent:
        return cls(
            project=m["project"],
            delivery_id=strawberry.ID(m["delivery_id"]),
            channel_id=strawberry.ID(m["channel_id"]),
            channel_name=m["channel_name"],
            kind=m["kind"],
            reason=m["reason"],
            status=m["status"],
            title=m["title"],
            state=DeliveryState(m["state"]),
            attempt=m["attempt"],
            status_code=m["status_code"],
            latency_ms=m["latency_ms"],
            error=m["error"],
            at=from_us(m["at_us"]),
        )
