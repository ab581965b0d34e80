"""Notification command handlers, and the alert-event handler feeding the router."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from domain.alerting.events import (
    AlertEvent,
)
from domain.changes import note_changes, note_target
from domain.compliance.events import ComplianceCheckedEvent
from domain.errors import BadUserInput, Conflict, NotFound
from domain.events import Event
from domain.notifications.alerts import AlertRecord
from domain.notifications.channels import apply_spec
from domain.notifications.commands import (
    ConfigureNotificationCommand,
    ConfigureNotificationPolicyCommand,
    CreateSilenceCommand,
    ExpireSilenceCommand,
    SendTestNotificationCommand,
)
from domain.notifications.messages import sample_message, trial_render
from domain.notifications.model import Channel, ChannelKind, Delivery, DeliveryReason
from domain.notifications.policy import Policy, parse_matcher
from domain.notifications.ports import MessageRenderer, NotificationStore, Outbox, TargetGuard
from domain.notifications.query_handlers import find_channel
from domain.notifications.read_models import NotificationDto, PolicyView, SilenceView
from domain.notifications.runtime.dispatcher import Dispatcher
from domain.notifications.silences import Silence
from domain.ports import Clock

__all__ = [
    "configure_notification",
    "configure_policy",
    "create_silence",
    "expire_silence",
    "route_alert_event",
    "route_compliance_event",
    "send_test_notification",
]

SECRET_OVERLAP_US = 86_400_000_000  # VIGIL_NOTIFY_SECRET_OVERLAP_SECONDS


async def configure_notification(
    command: ConfigureNotificationCommand,
    events: list[Event],
    *,
    notification_store: NotificationStore,
    notification_clock: Clock,
    renderer: MessageRenderer,
    guard: TargetGuard,
    dispatcher: Dispatcher,
    secret_overlap_us: int = SECRET_OVERLAP_US,
) -> NotificationDto | None:
    now = notification_clock.now_us()
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
        channel, generated = _with_secret(apply_spec(blank, command.spec), command.spec, new=True)
        channel = await _checked(renderer, guard, channel)
        _note_channel(None, channel)
        await notification_store.save_channel(channel)
        dispatcher.configs.invalidate(command.project)
        return NotificationDto.of(channel, generated_secret=generated)
    current = await find_channel(notification_store, command.project, command.channel_id)
    if command.expected_version is not None and current.version != command.expected_version:
        raise _conflict(current.version)
    if command.delete:
        policy = await notification_store.get_policy(command.project)
        if policy is not None and current.id in policy.channel_ids():
            raise BadUserInput("the notification policy routes to this channel: change it first")
        _note_channel(current, None)
        await notification_store.delete_channel(command.project, current.id)
        dispatcher.configs.invalidate(command.project)
        return None
    if not command.spec:
        raise BadUserInput("nothing to change: give channel fields, or delete")
    changed, generated = _with_secret(apply_spec(current, command.spec), command.spec)
    changed = _rotated(current, changed, now + secret_overlap_us)
    changed = await _checked(
        renderer,
        guard,
        replace(changed, version=current.version + 1, updated_at_us=now),
        current,
    )
    _note_channel(current, changed)
    if not await notification_store.save_channel(changed, expected_version=current.version):
        raise _conflict(
            (await find_channel(notification_store, command.project, current.id)).version
        )
    dispatcher.configs.invalidate(command.project)
    return NotificationDto.of(changed, generated_secret=generated)


async def configure_policy(
    command: ConfigureNotificationPolicyCommand,
    events: list[Event],
    *,
    notification_store: NotificationStore,
    dispatcher: Dispatcher,
) -> PolicyView:
    current = await notification_store.get_policy(command.project)
    version = (current.version if current else 0) + 1
    if command.policy is None:
        policy = Policy(version=version)
    else:
        policy = Policy.parse(command.policy, version=version)
        known = {c.id for c in await notification_store.list_channels(command.project)}
        unknown = sorted(policy.channel_ids() - known)
        if unknown:
            raise BadUserInput(f"the policy names channels this project does not have: {unknown}")
    await notification_store.save_policy(command.project, policy)
    dispatcher.configs.invalidate(command.project)
    return PolicyView(policy.to_dict(), version, command.policy is None)


async def create_silence(
    command: CreateSilenceCommand,
    events: list[Event],
    *,
    notification_store: NotificationStore,
    notification_clock: Clock,
    dispatcher: Dispatcher,
) -> SilenceView:
    now = notification_clock.now_us()
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
    await notification_store.save_silence(silence)
    dispatcher.configs.invalidate(command.project)
    return SilenceView(silence, silence.state(now))


async def expire_silence(
    command: ExpireSilenceCommand,
    events: list[Event],
    *,
    notification_store: NotificationStore,
    notification_clock: Clock,
    dispatcher: Dispatcher,
) -> SilenceView:
    now = notification_clock.now_us()
    silence = await notification_store.get_silence(command.project, command.silence_id)
    if silence is None:
        raise NotFound(f"no silence {command.silence_id!r} in project {command.project!r}")
    if silence.ends_us > now:
        silence = silence.expired(now)
        await notification_store.save_silence(silence)
        dispatcher.configs.invalidate(command.project)
    return SilenceView(silence, silence.state(now))


async def send_test_notification(
    command: SendTestNotificationCommand,
    events: list[Event],
    *,
    notification_store: NotificationStore,
    notification_clock: Clock,
    renderer: MessageRenderer,
    outbox: Outbox,
) -> Delivery:
    channel = await find_channel(notification_store, command.project, command.channel_id)
    now = notification_clock.now_us()
    delivery = Delivery(
        id=uuid.uuid4().hex,
        project=command.project,
        channel_id=channel.id,
        reason=DeliveryReason.TEST,
        message=await sample_message(renderer, channel, now),
        created_us=now,
        next_attempt_us=now,
    )
    return await outbox.send_new(delivery)


async def route_alert_event(event: AlertEvent, *, dispatcher: Dispatcher) -> None:
    """The in-process handler of alert events: only the process that evaluated an alert
    emits its events here, so each notification is routed once."""
    await dispatcher.on_alert_event(event)


async def route_compliance_event(
    event: ComplianceCheckedEvent,
    *,
    dispatcher: Dispatcher,
    notification_clock: Clock,
    compliance_notify: bool = False,
) -> None:
    """With `compliance_notify` (off by default: a catch-all route would otherwise page
    for every failing check), a failing compliance check routes like an alert: labels
    `alertname` (Compliance: <check>), `check`, `source="compliance"` and
    `severity="warning"`; a check that passes again resolves it. Heard only where the run
    happened, so routed once."""
    if not compliance_notify:
        return
    for result in event.results:
        check = str(result.get("check", ""))
        instance_id = f"compliance/{event.project}/{check}"
        if check in event.failing:
            await dispatcher.raise_record(
                AlertRecord(
                    project=event.project,
                    instance_id=instance_id,
                    rule_id=f"compliance:{check}",
                    rule_name=f"Compliance: {check}",
                    tags={"source": "compliance", "check": check},
                    severity="warning",
                    value=None,
                    threshold=None,
                    reason=str(result.get("detail", "")),
                    starts_us=notification_clock.now_us(),
                )
            )
        else:
            dispatcher.resolve_record(event.project, instance_id, "the check passes again")


def _with_secret(
    channel: Channel, spec: Mapping[str, Any], *, new: bool = False
) -> tuple[Channel, str]:
    """A new webhook given no secret, or one given an empty secret, gets a generated key,
    answered once: (the channel, the generated key or "")."""
    if channel.kind is not ChannelKind.WEBHOOK or channel.secret:
        return channel, ""
    if not new and spec.get("secret") is None and spec.get("kind") is None:
        return channel, ""  # a webhook saved unsigned before keys were required stays so
    generated = secrets.token_urlsafe(32)  # 256 bits
    return replace(channel, secret=generated), generated


def _rotated(current: Channel, changed: Channel, overlap_until_us: int) -> Channel:
    """A webhook whose key changes keeps signing with the old one too until the overlap
    ends, so receivers can switch keys without losing a delivery."""
    if changed.kind is not ChannelKind.WEBHOOK or changed.secret == current.secret:
        return changed
    if not current.secret or current.kind is not ChannelKind.WEBHOOK:
        return replace(changed, previous_secret="", previous_secret_until_us=0)
    return replace(
        changed, previous_secret=current.secret, previous_secret_until_us=overlap_until_us
    )


async def _checked(
    renderer: MessageRenderer, guard: TargetGuard, channel: Channel, before: Channel | None = None
) -> Channel:
    """Templates compile and (those new or changed) pass their test render within the
    budgets, and the target is one Vigil may reach (checked again at send)."""
    names = ("title_template", "body_template")
    for name in names:
        problem = renderer.check(getattr(channel, name))
        if problem is not None:
            raise BadUserInput(f"{name} is not a valid template: {problem}")
    target = channel.smtp_host if channel.kind is ChannelKind.EMAIL else channel.url
    await guard.check(target)
    changed = [n for n in names if before is None or getattr(before, n) != getattr(channel, n)]
    await trial_render(renderer, channel, channel.updated_at_us, changed)
    return channel


def _note_channel(before: Channel | None, after: Channel | None) -> None:
    """What the audit trail records: each changed field; the secret, and a Slack URL (its
    credential), by name only."""
    channel = after or before
    assert channel is not None
    hidden: tuple[str, ...] = ("secret", "previous_secret")
    hidden += ("url",) if channel.kind is ChannelKind.SLACK else ()
    note_target(channel=channel.id)
    note_changes(
        before.to_dict() if before else None,
        after.to_dict() if after else None,
        secrets=hidden,
        ignore=(
            "id",
            "project",
            "version",
            "created_at_us",
            "updated_at_us",
            "created_by",
            "previous_secret",  # follows from a change of `secret`, recorded (redacted)
            "previous_secret_until_us",
        ),
    )


def _conflict(version: int) -> Conflict:
    return Conflict("channel", version)
