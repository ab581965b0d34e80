"""Notification queries: channels (the RFC's GetNotificationQuery), policy, silences and
deliveries."""

from __future__ import annotations

from dataclasses import dataclass

from domain.notifications.model import DeliveryState
from domain.queries import Query

__all__ = [
    "GetDeliveryQuery",
    "GetNotificationPolicyQuery",
    "GetNotificationQuery",
    "ListDeliveriesQuery",
    "ListNotificationsQuery",
    "ListSilencesQuery",
]


@dataclass(frozen=True, slots=True)
class GetNotificationQuery(Query):
    project: str
    id: str


@dataclass(frozen=True, slots=True)
class ListNotificationsQuery(Query):
    project: str


@dataclass(frozen=True, slots=True)
class GetNotificationPolicyQuery(Query):
    project: str


@dataclass(frozen=True, slots=True)
class ListSilencesQuery(Query):
    project: str
    expired: bool = False


@dataclass(frozen=True, slots=True)
class ListDeliveriesQuery(Query):
    """Newest first."""

    project: str
    state: DeliveryState | None = None
    channel_id: str | None = None
    first: int = 100


@dataclass(frozen=True, slots=True)
class GetDeliveryQuery(Query):
    project: str
    id: str
