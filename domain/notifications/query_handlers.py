"""Notification query handlers: one short function per query."""

from __future__ import annotations

from domain.errors import NotFound
from domain.notifications.config import effective_policy
from domain.notifications.model import Channel, Delivery
from domain.notifications.ports import NotificationStore
from domain.notifications.queries import (
    GetDeliveryQuery,
    GetNotificationPolicyQuery,
    GetNotificationQuery,
    ListDeliveriesQuery,
    ListNotificationsQuery,
    ListSilencesQuery,
)
from domain.notifications.read_models import NotificationDto, PolicyView, SilenceView
from domain.notifications.silences import SilenceState
from domain.paging import check_first
from domain.ports import Clock

__all__ = [
    "find_channel",
    "get_delivery",
    "get_notification",
    "get_policy",
    "list_deliveries",
    "list_notifications",
    "list_silences",
]


async def find_channel(store: NotificationStore, project: str, channel_id: str) -> Channel:
    channel = await store.get_channel(project, channel_id)
    if channel is None:
        raise NotFound(f"no notification channel {channel_id!r} in project {project!r}")
    return channel


async def get_notification(
    query: GetNotificationQuery, *, notification_store: NotificationStore
) -> NotificationDto:
    return NotificationDto.of(await find_channel(notification_store, *_of(query)))


async def list_notifications(
    query: ListNotificationsQuery, *, notification_store: NotificationStore
) -> list[NotificationDto]:
    channels = await notification_store.list_channels(query.project)
    return [NotificationDto.of(c) for c in channels]


async def get_policy(
    query: GetNotificationPolicyQuery, *, notification_store: NotificationStore
) -> PolicyView:
    stored = await notification_store.get_policy(query.project)
    policy = effective_policy(stored, await notification_store.list_channels(query.project))
    return PolicyView(policy.to_dict(), policy.version, stored is None or policy.version == 0)


async def list_silences(
    query: ListSilencesQuery, *, notification_store: NotificationStore, notification_clock: Clock
) -> list[SilenceView]:
    now = notification_clock.now_us()
    views = [
        SilenceView(s, s.state(now)) for s in await notification_store.list_silences(query.project)
    ]
    return [v for v in views if query.expired or v.state is not SilenceState.EXPIRED]


async def list_deliveries(
    query: ListDeliveriesQuery, *, notification_store: NotificationStore
) -> list[Delivery]:
    check_first(query.first)
    return await notification_store.list_deliveries(
        query.project, state=query.state, channel_id=query.channel_id, first=query.first
    )


async def get_delivery(
    query: GetDeliveryQuery, *, notification_store: NotificationStore
) -> Delivery:
    found = await notification_store.get_delivery(query.project, query.id)
    if found is None:
        raise NotFound(f"no delivery {query.id!r} in project {query.project!r}")
    return found


def _of(query: GetNotificationQuery) -> tuple[str, str]:
    return query.project, query.id
