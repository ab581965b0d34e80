"""Notification operations: one thin function per mutation and query, each a command or
a query handed to the bus."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.commands import Command
from domain.notifications import DeliveryState
from domain.notifications.commands import (
    ConfigureNotificationCommand,
    ConfigureNotificationPolicyCommand,
    CreateSilenceCommand,
    ExpireSilenceCommand,
    SendTestNotificationCommand,
)
from domain.notifications.queries import (
    GetDeliveryQuery,
    GetNotificationPolicyQuery,
    GetNotificationQuery,
    ListDeliveriesQuery,
    ListNotificationsQuery,
    ListSilencesQuery,
)
from schema.context import Info
from schema.notifications import (
    NotificationChannel,
    NotificationChannelInput,
    NotificationDelivery,
    NotificationDeliveryState,
    NotificationPolicy,
    Silence,
)
from schema.scalars import JSONObject
from schema.types import to_us

__all__ = [
    "configure_notification",
    "configure_notification_policy",
    "create_silence",
    "expire_silence",
    "notification",
    "notification_deliveries",
    "notification_delivery",
    "notification_policy",
    "notifications",
    "send_test_notification",
    "silences",
]


async def _handle(info: Info, command: Command) -> Any:
    return await info.context.bus.handle(
        command, actor=_actor(info), request_id=info.context.request_id
    )


def _actor(info: Info) -> str:
    return info.context.require_principal().subject


async def configure_notification(
    info: Info,
    project: str,
    channel: NotificationChannelInput | None = None,
    channel_id: strawberry.ID | None = None,
    expected_version: int | None = None,
    delete: bool = False,
) -> NotificationChannel | None:
    """ConfigureNotificationCommand: create a channel (no `channelId`), change one, or
    delete one (`delete: true`, answers null). Admins only."""
    command = ConfigureNotificationCommand(
        project,
        channel_id=None if channel_id is None else str(channel_id),
        spec=None if channel is None else channel.to_spec(),
        expected_version=expected_version,
        delete=delete,
        actor=_actor(info),
    )
    dto = await _handle(info, command)
    return None if dto is None else NotificationChannel.of(dto)


async def configure_notification_policy(
    info: Info, project: str, policy: JSONObject | None = None
) -> NotificationPolicy:
    """Replace the routing tree, inhibit rules and mute timings; null: the default."""
    view = await _handle(
        info, ConfigureNotificationPolicyCommand(project, policy, actor=_actor(info))
    )
    return NotificationPolicy.of(view)


async def create_silence(
    info: Info,
    project: str,
    matchers: list[str],
    ends_at: datetime,
    starts_at: datetime | None = None,
    comment: str = "",
) -> Silence:
    """Mute alerts matching every matcher (`severity="critical"`, `host=~"web-.*"`)."""
    ends_us = int(ends_at.timestamp() * 1_000_000)
    command = CreateSilenceCommand(
        project, matchers, ends_us, to_us(starts_at), comment, actor=_actor(info)
    )
    return Silence.of(await _handle(info, command))


async def expire_silence(info: Info, project: str, silence_id: strawberry.ID) -> Silence:
    command = ExpireSilenceCommand(project, str(silence_id), actor=_actor(info))
    return Silence.of(await _handle(info, command))


async def send_test_notification(
    info: Info, project: str, channel_id: strawberry.ID
) -> NotificationDelivery:
    """Store a test delivery and attempt it now, through the same path and checks as
    every delivery; answers it after that first attempt."""
    command = SendTestNotificationCommand(project, str(channel_id), actor=_actor(info))
    return NotificationDelivery.of(await _handle(info, command))


async def notification(info: Info, project: str, id: strawberry.ID) -> NotificationChannel:
    """GetNotificationQuery: one channel, without its secret."""
    dto = await info.context.bus.ask(GetNotificationQuery(project, str(id)))
    return NotificationChannel.of(dto)


async def notifications(info: Info, project: str) -> list[NotificationChannel]:
    dtos = await info.context.bus.ask(ListNotificationsQuery(project))
    return [NotificationChannel.of(d) for d in dtos]


async def notification_policy(info: Info, project: str) -> NotificationPolicy:
    return NotificationPolicy.of(await info.context.bus.ask(GetNotificationPolicyQuery(project)))


async def silences(info: Info, project: str, expired: bool = False) -> list[Silence]:
    views = await info.context.bus.ask(ListSilencesQuery(project, expired))
    return [Silence.of(v) for v in views]


async def notification_deliveries(
    info: Info,
    project: str,
    state: NotificationDeliveryState | None = None,  # type: ignore[valid-type]
    channel_id: strawberry.ID | None = None,
    first: int = 100,
) -> list[NotificationDelivery]:
    """Newest first; `state: DEAD` lists the dead letters."""
    query = ListDeliveriesQuery(
        project,
        state=None if state is None else DeliveryState(state.value),
        channel_id=None if channel_id is None else str(channel_id),
        first=first,
    )
    return [NotificationDelivery.of(d) for d in await info.context.bus.ask(query)]


async def notification_delivery(
    info: Info, project: str, id: strawberry.ID
) -> NotificationDelivery:
    return NotificationDelivery.of(await info.context.bus.ask(GetDeliveryQuery(project, str(id))))
