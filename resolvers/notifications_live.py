"""Notification subscriptions, from `notifications.<project>`: `notificationSent` (every
delivery attempt) and `notificationChannelDisabled` (channels Vigil disabled)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from domain.notifications.events import NotificationChannelDisabledEvent, NotificationSentEvent
from schema.context import Info
from schema.notifications import (
    NotificationChannelDisabled,
    NotificationDeliveryState,
    NotificationSent,
)

__all__ = ["notification_channel_disabled", "notification_sent"]


async def notification_sent(
    info: Info,
    project: str,
    channel_id: strawberry.ID | None = None,
    state: NotificationDeliveryState | None = None,  # type: ignore[valid-type]
) -> AsyncGenerator[NotificationSent, None]:
    """NotificationSentEvent: one message per attempt (state PENDING: will be retried)."""
    wanted = None if state is None else state.value
    events = info.context.subscriber.subscribe(NotificationSentEvent.channel_for(project))
    try:
        async for event in events:
            if not isinstance(event, NotificationSentEvent):
                continue
            if channel_id not in (None, event.channel_id):
                continue
            if wanted in (None, event.state):
                yield NotificationSent.of(event)
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()


async def notification_channel_disabled(
    info: Info, project: str
) -> AsyncGenerator[NotificationChannelDisabled, None]:
    """NotificationChannelDisabledEvent: a channel whose receiver answered 410 Gone."""
    events = info.context.subscriber.subscribe(
        NotificationChannelDisabledEvent.channel_for(project)
    )
    try:
        async for event in events:
            if isinstance(event, NotificationChannelDisabledEvent):
                yield NotificationChannelDisabled.of(event)
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
