"""`notificationSent`: every delivery attempt of a project, from `notifications.<project>`."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from schema.context import Info
from schema.notifications import NotificationDeliveryState, NotificationSent

__all__ = ["notification_sent"]


async def notification_sent(
    info: Info,
    project: str,
    channel_id: strawberry.ID | None = None,
    state: NotificationDeliveryState | None = None,  # type: ignore[valid-type]
) -> AsyncGenerator[NotificationSent, None]:
    """NotificationSentEvent: one message per attempt (state PENDING: will be retried)."""
    wanted = None if state is None else state.value
    messages = info.context.subscriber.subscribe(f"notifications.{project}")
    try:
        async for message in messages:
            if message.get("type") != "NotificationSentEvent":
                continue
            if channel_id not in (None, message.get("channel_id")):
                continue
            if wanted in (None, message.get("state")):
                yield NotificationSent.of(message)
    finally:
        close = getattr(messages, "aclose", None)
        if close is not None:
            await close()
