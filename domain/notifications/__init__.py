"""Notifications: channels, routing, grouping, silences, mute timings, inhibition,
escalation, and deliveries that are stored before they are attempted."""

from domain.notifications.events import NotificationChannelDisabledEvent, NotificationSentEvent
from domain.notifications.model import (
    Attempt,
    Channel,
    ChannelKind,
    Delivery,
    DeliveryReason,
    DeliveryState,
    Message,
)
from domain.notifications.policy import InhibitRule, Policy, Route, RouteLeaf
from domain.notifications.ports import MessageRenderer, NotificationStore, Outbox, TargetGuard
from domain.notifications.silences import Silence, SilenceState
from domain.notifications.timing import MuteTiming, TimeInterval

__all__ = [
    "Attempt",
    "Channel",
    "ChannelKind",
    "Delivery",
    "DeliveryReason",
    "DeliveryState",
    "InhibitRule",
    "Message",
    "MessageRenderer",
    "MuteTiming",
    "NotificationChannelDisabledEvent",
    "NotificationSentEvent",
    "NotificationStore",
    "Outbox",
    "Policy",
    "Route",
    "RouteLeaf",
    "Silence",
    "SilenceState",
    "TargetGuard",
    "TimeInterval",
]
