"""Notification reads: one short function per query, and their table."""

from __future__ import annotations

from domain.errors import BadUserInput, NotFound
from domain.messagebus import QueryHandler, Services
from domain.notifications.config import effective_policy
from domain.notifications.model import Channel, Delivery
from domain.notifications.queries import (
    GetDeliveryQuery,
    GetNotificationPolicyQuery,
    GetNotificationQuery,
    ListDeliveriesQuery,
    ListNotificationsQuery,
    ListSilencesQuery,
)
from domain.notifications.read_models import NotificationDto, PolicyView, SilenceView
from domain.notifications.services import NotificationServices, require
from domain.notifications.silences import SilenceState
from domain.queries import Query

__all__ = ["MAX_PAGE", "NOTIFICATION_QUERY_HANDLERS", "find_channel"]

MAX_PAGE = 1_000


async def find_channel(ports: NotificationServices, project: str, channel_id: str) -> Channel:
    channel = await ports.store.get_channel(project, channel_id)
    if channel is None:
        raise NotFound(f"no notification channel {channel_id!r} in project {project!r}")
    return channel


async def get_notification(query: GetNotificationQuery, services: Services) -> NotificationDto:
    return NotificationDto.of(await find_channel(require(services.notifications), *_of(query)))


async def list_notifications(
    query: ListNotificationsQuery, services: Services
) -> list[NotificationDto]:
    channels = await require(services.notifications).store.list_channels(query.project)
    return [NotificationDto.of(c) for c in channels]


async def get_policy(query: GetNotificationPolicyQuery, services: Services) -> PolicyView:
    store = require(services.notifications).store
    stored = await store.get_policy(query.project)
    policy = effective_policy(stored, await store.list_channels(query.project))
    return PolicyView(policy.to_dict(), policy.version, stored is None or policy.version == 0)


async def list_silences(query: ListSilencesQuery, services: Services) -> list[SilenceView]:
    ports = require(services.notifications)
    now = ports.clock.now_us()
    views = [SilenceView(s, s.state(now)) for s in await ports.store.list_silences(query.project)]
    return [v for v in views if query.expired or v.state is not SilenceState.EXPIRED]


async def list_deliveries(query: ListDeliveriesQuery, services: Services) -> list[Delivery]:
    if not 1 <= query.first <= MAX_PAGE:
        raise BadUserInput(f"first must be between 1 and {MAX_PAGE}")
    return await require(services.notifications).store.list_deliveries(
        query.project, state=query.state, channel_id=query.channel_id, first=query.first
    )


async def get_delivery(query: GetDeliveryQuery, services: Services) -> Delivery:
    found = await require(services.notifications).store.get_delivery(query.project, query.id)
    if found is None:
        raise NotFound(f"no delivery {query.id!r} in project {query.project!r}")
    return found


def _of(query: GetNotificationQuery) -> tuple[str, str]:
    return query.project, query.id


NOTIFICATION_QUERY_HANDLERS: dict[type[Query], QueryHandler] = {
    GetNotificationQuery: get_notification,
    ListNotificationsQuery: list_notifications,
    GetNotificationPolicyQuery: get_policy,
    ListSilencesQuery: list_silences,
    ListDeliveriesQuery: list_deliveries,
    GetDeliveryQuery: get_delivery,
}
