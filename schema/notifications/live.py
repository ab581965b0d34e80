"""What notification subscribers receive: NotificationSent (`notificationSent`, one per
attempt) and NotificationChannelDisabled (`notificationChannelDisabled`)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.notifications import DeliveryState
from domain.notifications.events import NotificationChannelDisabledEvent, NotificationSentEvent
from schema.notifications.types import NotificationDeliveryState
from schema.types import from_us

__all__ = ["NotificationChannelDisabled", "NotificationSent"]


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
    def of(cls, e: NotificationSentEvent) -> NotificationSent:
        return cls(
            project=e.project,
            delivery_id=strawberry.ID(e.delivery_id),
            channel_id=strawberry.ID(e.channel_id),
            channel_name=e.channel_name,
            kind=e.kind,
            reason=e.reason,
            status=e.status,
            title=e.title,
            state=DeliveryState(e.state),
            attempt=e.attempt,
            status_code=e.status_code,
            latency_ms=e.latency_ms,
            error=e.error,
            at=from_us(e.at_us),
        )


@strawberry.type(
    description="Vigil disabled a channel: its receiver answered 410 Gone. Nothing more is "
    "sent to it until an admin sets `enabled: true` (NotificationChannelDisabledEvent)."
)
class NotificationChannelDisabled:
    project: str
    channel_id: strawberry.ID
    channel_name: str
    kind: str
    reason: str
    delivery_id: strawberry.ID
    at: datetime

    @classmethod
    def of(cls, e: NotificationChannelDisabledEvent) -> NotificationChannelDisabled:
        return cls(
            project=e.project,
            channel_id=strawberry.ID(e.channel_id),
            channel_name=e.channel_name,
            kind=e.kind,
            reason=e.reason,
            delivery_id=strawberry.ID(e.delivery_id),
            at=from_us(e.at_us),
        )
