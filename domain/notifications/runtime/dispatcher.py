"""The notification router: alert events in, grouped, deduplicated deliveries out.

Events update what the router knows of each alert (in memory) and place it in the groups
of the routes it matches; `tick` (driven by the Clock port) flushes the groups that are
due and escalates what stayed unacknowledged. Each notification becomes a stored
Delivery, which the outbox attempts until it is delivered or dead.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from domain.alerting.events import (
    AlertAcknowledgedEvent,
    AlertEvent,
    AlertResolvedEvent,
    AlertTriggeredEvent,
)
from domain.notifications.alerts import AlertRecord
from domain.notifications.config import ConfigCache, ProjectConfig
from domain.notifications.grouping import Group, Sent, group_key, needs_update
from domain.notifications.messages import build_message
from domain.notifications.model import Channel, Delivery, DeliveryReason
from domain.notifications.policy import RouteLeaf
from domain.notifications.ports import MessageRenderer, NotificationStore
from domain.ports import Clock

__all__ = ["Dispatcher"]

logger = logging.getLogger("vigil.notifications")


@dataclass(slots=True)
class _Escalation:
    project: str
    instance_id: str
    due_us: int
    leaf: RouteLeaf


class Dispatcher:
    """One per process; it hears only the alert events this process emits, so several
    processes do not notify the same alert twice."""

    def __init__(self, store: NotificationStore, renderer: MessageRenderer, clock: Clock) -> None:
        self.store = store
        self.renderer = renderer
        self.clock = clock
        self.configs = ConfigCache(store)
        self.wake: Callable[[], None] = lambda: None
        # Labels an alert gets from elsewhere (its incident); None: a duplicate of an alert
        # already notified (two rules on one series for one cause), which is not routed.
        self.annotate: Callable[[AlertEvent], Mapping[str, str] | None] = lambda _: {}
        self._alerts: dict[str, dict[str, AlertRecord]] = {}  # project -> instance id -> alert
        self._groups: dict[str, Group] = {}
        self._escalations: dict[tuple[str, str], _Escalation] = {}
        self._ticking = asyncio.Lock()  # one flush of a group at a time

    # -- events ------------------------------------------------------------------------------

    async def on_alert_event(self, event: AlertEvent) -> None:
        now = self.clock.now_us()
        known = self._alerts.setdefault(event.project, {})
        record = known.get(event.instance_id)
        if isinstance(event, AlertTriggeredEvent):
            if not event.notify:
                return
            extra = self.annotate(event)
            if extra is None:
                return
            record = AlertRecord.of(
                event,
                severity=event.severity or "",
                value=event.value,
                threshold=event.threshold,
                reason=event.reason,
                starts_us=record.starts_us if record and record.firing else now,
                extra=dict(extra),
            )
            known[event.instance_id] = record
            await self._route(record, now, escalate=True)
        elif isinstance(event, AlertResolvedEvent):
            if record is None or not event.notify:
                return  # nobody was told it fired (or it fired before this process started)
            record.ends_us, record.reason = now, event.reason
            record.value = event.value if event.value is not None else record.value
            self._cancel_escalations(event.instance_id)
        elif isinstance(event, AlertAcknowledgedEvent) and record is not None:
            record.acknowledged = True
            self._cancel_escalations(event.instance_id)

    async def raise_record(self, record: AlertRecord) -> None:
        """Something that is not an alert rule fires like one (a failing compliance check):
        routed, grouped, silenced and escalated by its labels, as alerts are."""
        known = self._alerts.setdefault(record.project, {})
        previous = known.get(record.instance_id)
        if previous is not None and previous.firing:
            record.starts_us = previous.starts_us
        known[record.instance_id] = record
        await self._route(record, self.clock.now_us(), escalate=True)

    def resolve_record(self, project: str, instance_id: str, reason: str) -> None:
        """What `raise_record` fired is over; receivers are told at the group's next flush."""
        record = self._alerts.get(project, {}).get(instance_id)
        if record is not None and record.firing:
            record.ends_us, record.reason = self.clock.now_us(), reason
            self._cancel_escalations(instance_id)

    async def _route(self, record: AlertRecord, now: int, *, escalate: bool) -> None:
        config = await self.configs.get(record.project, now)
        leaves = config.policy.route.match(record.labels)
        keys = set()
        for leaf in leaves:
            key, labels = group_key(record.project, leaf, record.labels)
            keys.add(key)
            group = self._groups.get(key)
            if group is None:
                group = Group(key, record.project, leaf, labels, now + leaf.group_wait_us)
                self._groups[key] = group
                if leaf.group_wait_us == 0:
                    self.wake()
            group.alerts[record.instance_id] = record
            if escalate and leaf.escalate_after_us is not None:
                self._escalations[(record.instance_id, leaf.path)] = _Escalation(
                    record.project, record.instance_id, now + leaf.escalate_after_us, leaf
                )
        for group in self._groups.values():  # a changed severity may route elsewhere
            if group.key not in keys and group.project == record.project:
                group.alerts.pop(record.instance_id, None)

    def _cancel_escalations(self, instance_id: str) -> None:
        for key in [k for k in self._escalations if k[0] == instance_id]:
            del self._escalations[key]

    # -- time --------------------------------------------------------------------------------

    async def tick(self) -> int:
        """Flush the groups that are due and escalate what is overdue; the number of
        deliveries stored."""
        async with self._ticking:
            return await self._tick(self.clock.now_us())

    async def _tick(self, now: int) -> int:
        stored = 0
        for group in [g for g in self._groups.values() if g.next_flush_us <= now]:
            try:
                stored += await self._flush(group, now)
            except Exception:  # one bad group must not stop the others
                logger.exception("flushing notification group %s failed", group.key)
        for key, due in list(self._escalations.items()):
            if due.due_us <= now:
                try:
                    stored += await self._escalate(key, due, now)
                except Exception:
                    logger.exception("escalating alert %s failed", due.instance_id)
        self._forget_resolved()
        return stored

    async def _flush(self, group: Group, now: int) -> int:
        config = await self.configs.get(group.project, now)
        group.next_flush_us = now + group.leaf.group_interval_us
        if config.muted(group.leaf, now):
            return 0
        alerts = list(group.alerts.values())
        firing = [a for a in alerts if a.firing and not config.mutes(a, self._firing(a), now)]
        resolved = [a for a in alerts if not a.firing]
        firing_fps = frozenset(a.fingerprint for a in firing)
        resolved_fps = frozenset(a.fingerprint for a in resolved)
        stored = 0
        for channel in config.channels_of(group.leaf.channels):
            last = group.sent.get(channel.id)
            if needs_update(
                last,
                firing_fps,
                resolved_fps,
                send_resolved=channel.send_resolved,
                repeat_interval_us=group.leaf.repeat_interval_us,
                now_us=now,
            ):
                told = firing + (resolved if channel.send_resolved else [])
                await self._store(channel, group, told, now, DeliveryReason.NOTIFICATION)
                stored += 1
                group.sent[channel.id] = Sent(firing_fps, resolved_fps, now)
            elif last is not None and not firing_fps:
                group.sent[channel.id] = Sent(firing_fps, resolved_fps, last.at_us)
        for alert in resolved:  # told (or not wanted): a resolved alert leaves its group
            if group.alerts.get(alert.instance_id) is alert:  # not fired again meanwhile
                del group.alerts[alert.instance_id]
        if not group.alerts and self._groups.get(group.key) is group:
            del self._groups[group.key]
        return stored

    async def _escalate(self, key: tuple[str, str], due: _Escalation, now: int) -> int:
        record = self._alerts.get(due.project, {}).get(due.instance_id)
        if record is None or not record.firing or record.acknowledged:
            del self._escalations[key]
            return 0
        config = await self.configs.get(due.project, now)
        if config.muted(due.leaf, now) or config.mutes(record, self._firing(record), now):
            return 0  # still unacknowledged once the mute ends: escalated then
        del self._escalations[key]
        channels = config.channels_of(due.leaf.escalate_to)
        group = Group(f"escalation/{key[1]}/{due.instance_id}", due.project, due.leaf, {}, now)
        for channel in channels:
            await self._store(channel, group, [record], now, DeliveryReason.ESCALATION)
        return len(channels)

    async def _store(
        self,
        channel: Channel,
        group: Group,
        alerts: list[AlertRecord],
        now: int,
        reason: DeliveryReason,
    ) -> None:
        message = await build_message(
            self.renderer,
            channel,
            alerts=alerts,
            group_key=group.key,
            group_labels=group.labels,
            escalated=reason is DeliveryReason.ESCALATION,
        )
        delivery = Delivery(
            id=uuid.uuid4().hex,
            project=group.project,
            channel_id=channel.id,
            reason=reason,
            message=message,
            created_us=now,
            next_attempt_us=now,
        )
        await self.store.add_delivery(delivery)
        self.wake()

    def _firing(self, record: AlertRecord) -> list[AlertRecord]:
        return [a for a in self._alerts.get(record.project, {}).values() if a.firing]

    def _forget_resolved(self) -> None:
        grouped = {i for g in self._groups.values() for i in g.alerts}
        for known in self._alerts.values():
            for instance_id in [i for i, a in known.items() if not a.firing and i not in grouped]:
                del known[instance_id]

    def configured(self, project: str) -> ProjectConfig | None:
        """The cached configuration of a project, if loaded (for tests and diagnostics)."""
        return self.configs.cached(project)
