"""Notification types, inputs and live messages of the GraphQL schema."""

from schema.notifications.live import NotificationChannelDisabled, NotificationSent
from schema.notifications.types import (
    DeliveryAttempt,
    NotificationChannel,
    NotificationChannelInput,
    NotificationChannelKind,
    NotificationDelivery,
    NotificationDeliveryState,
    NotificationPolicy,
    Silence,
    SilenceStatus,
)

__all__ = [
    "DeliveryAttempt",
    "NotificationChannel",
    "NotificationChannelDisabled",
    "NotificationChannelInput",
    "NotificationChannelKind",
    "NotificationDelivery",
    "NotificationDeliveryState",
    "NotificationPolicy",
    "NotificationSent",
    "Silence",
    "SilenceStatus",
]
