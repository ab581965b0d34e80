"""Notification handlers: one short function per command and query, the alert-event
handler feeding the router, and the tables domain/handlers.py merges."""

from __future__ import annotations

import uuid
from dataclasses import replace

from domain.alerting.events import (
    AlertAcknowledgedEvent,
    AlertEvent,
    AlertResolvedEvent,
    AlertTriggeredEvent,
)
from domain.commands import Command
from domain.errors import BadUserInput, NotFound
from domain.events import Event
from domain.messagebus import CommandHandler, EventHandler, Services
from domain.notifications.channels import apply_spec
from domain.notifications.commands import (
    ConfigureNotificationCommand,
    ConfigureNotificationPolicyCommand,
    CreateSilenceCommand,
    ExpireSilenceCommand,
    SendTestNotificationCommand,
)
from domain.notifications.events import NotificationSentEvent
from domain.notifications.messages import sample_message
from domain.notifications.model import Channel, ChannelKind, Delivery, DeliveryReason
from domain.notifications.policy import Policy, parse_matcher
from domain.notifications.query_handlers import NOTIFICATION_QUERY_HANDLERS, find_channel
from domain.notifications.read_models import NotificationDto, PolicyView, SilenceView
from domain.notifications.services import NotificationServices, require
from domain.notifications.silences import Silence

__all__ = [
    "NOTIFICATION_ALERT_HANDLERS",
    "NOTIFICATION_COMMAND_HANDLERS",
    "NOTIFICATION_EVENTS",
    "NOTIFICATION_QUERY_HANDLERS",
]


async def configure_notification(
    command: ConfigureNotificationCommand, services: Services, events: list[Event]
) -> NotificationDto | None:
    ports = require(services.notifications)
    now = ports.clock.now_us()
    if command.channel_id is None:
        if command.delete or not command.spec:
            raise BadUserInput("a new channel needs its fields (and no delete)")
        if "kind" not in command.spec or "name" not in command.spec:
            raise BadUserInput("a new channel needs a name and a kind")
        blank = Channel(
            id=uuid.uuid4().hex,
            project=command.project,
            name="",
            kind=ChannelKind.WEBHOOK,
            created_at_us=now,
            updated_at_us=now,
            created_by=command.actor,
        )
        channel = await _checked(ports, apply_spec(blank, command.spec))
        await ports.store.save_channel(channel)
        ports.dispatcher.configs.invalidate(command.project)
        return NotificationDto.of(channel)
    current = await find_channel(ports, command.project, command.channel_id)
    if command.expected_version is not None and current.version != command.expected_version:
        raise _conflict(current.version)
    if command.delete:
        policy = await ports.store.get_policy(command.project)
        if policy is not None and current.id in policy.channel_ids():
            raise BadUserInput("the notification policy routes to this channel: change it first")
        await ports.store.delete_channel(command.project, current.id)
        ports.dispatcher.configs.invalidate(command.project)
        return None
    if not command.spec:
        raise BadUserInput("nothing to change: give channel fields, or delete")
    changed = apply_spec(current, command.spec)
    changed = await _checked(
        ports, replace(changed, version=current.version + 1, updated_at_us=now)
    )
    if not await ports.store.save_channel(changed, expected_version=current.version):
        raise _conflict((await find_channel(ports, command.project, current.id)).version)
    ports.dispatcher.configs.invalidate(command.project)
    return NotificationDto.of(changed)


async def configure_policy(
    command: ConfigureNotificationPolicyCommand, services: Services, events: list[Event]
) -> PolicyView:
    ports = require(services.notifications)
    current = await ports.store.get_policy(command.project)
    version = (current.version if current else 0) + 1
    if command.policy is None:
        policy = Policy(version=version)
    else:
        policy = Policy.parse(command.policy, version=version)
        known = {c.id for c in await ports.store.list_channels(command.project)}
        unknown = sorted(policy.channel_ids() - known)
        if unknown:
            raise BadUserInput(f"the policy names channels this project does not have: {unknown}")
    await ports.store.save_policy(command.project, policy)
    ports.dispatcher.configs.invalidate(command.project)
    return PolicyView(policy.to_dict(), version, command.policy is None)


async def create_silence(
    command: CreateSilenceCommand, services: Services, events: list[Event]
) -> SilenceView:
    ports = require(services.notifications)
    now = ports.clock.now_us()
    silence = Silence.create(
        id=uuid.uuid4().hex,
        project=command.project,
        matchers=[parse_matcher(m) for m in command.matchers],
        starts_us=now if command.starts_us is None else command.starts_us,
        ends_us=command.ends_us,
        now_us=now,
        created_by=command.actor,
        comment=command.comment,
    )
    await ports.store.save_silence(silence)
    ports.dispatcher.configs.invalidate(command.project)
    return SilenceView(silence, silence.state(now))


async def expire_silence(
    command: ExpireSilenceCommand, services: Services, events: list[Event]
) -> SilenceView:
    ports = require(services.notifications)
    now = ports.clock.now_us()
    silence = await ports.store.get_silence(command.project, command.silence_id)
    if silence is None:
        raise NotFound(f"no silence {command.silence_id!r} in project {command.project!r}")
    if silence.ends_us > now:
        silence = silence.expired(now)
        await ports.store.save_silence(silence)
        ports.dispatcher.configs.invalidate(command.project)
    return SilenceView(silence, silence.state(now))


async def send_test_notification(
    command: SendTestNotificationCommand, services: Services, events: list[Event]
) -> Delivery:
    ports = require(services.notifications)
    channel = await find_channel(ports, command.project, command.channel_id)
    now = ports.clock.now_us()
    delivery = Delivery(
        id=uuid.uuid4().hex,
        project=command.project,
        channel_id=channel.id,
        reason=DeliveryReason.TEST,
        message=sample_message(ports.renderer, channel, now),
        created_us=now,
        next_attempt_us=now,
    )
    return await ports.outbox.send_new(delivery)


async def route_alert_event(event: AlertEvent, services: Services) -> None:
    """The in-process handler of alert events: only the process that evaluated an alert
    emits its events here, so each notification is routed once."""
    if services.notifications is not None:
        await services.notifications.dispatcher.on_alert_event(event)


async def _checked(ports: NotificationServices, channel: Channel) -> Channel:
    """Templates compile and the target is one Vigil may reach (checked again at send)."""
    for name in ("title_template", "body_template"):
        problem = ports.renderer.check(getattr(channel, name))
        if problem is not None:
            raise BadUserInput(f"{name} is not a valid template: {problem}")
    target = channel.smtp_host if channel.kind is ChannelKind.EMAIL else channel.url
    await ports.guard.check(target)
    return channel


def _conflict(version: int) -> BadUserInput:
    return BadUserInput(
        f"channel was changed by someone else (version {version}); reload and retry",
        current_version=version,
    )


NOTIFICATION_COMMAND_HANDLERS: dict[type[Command], CommandHandler] = {
    ConfigureNotificationCommand: configure_notification,
    ConfigureNotificationPolicyCommand: configure_policy,
    CreateSilenceCommand: create_silence,
    ExpireSilenceCommand: expire_silence,
    SendTestNotificationCommand: send_test_notification,
}
# Published on the event bus (channel `notifications.<project>`).
NOTIFICATION_EVENTS: tuple[type[Event], ...] = (NotificationSentEvent,)
# Run in process after the alert events are published.
NOTIFICATION_ALERT_HANDLERS: dict[type[Event], list[EventHandler]] = {
    AlertTriggeredEvent: [route_alert_event],
    AlertResolvedEvent: [route_alert_event],
    AlertAcknowledgedEvent: [route_alert_event],
}
