"""Alert command handlers: one short function per command. Moves of an alert's instances
(acknowledge, resolve, remove) are carried out and published by the engine that owns it."""

from __future__ import annotations

import uuid
from typing import Any

from domain.alerting.alert import Alert
from domain.alerting.commands import (
    AcknowledgeAlertCommand,
    CreateAlertCommand,
    CreateAlertFromTemplateCommand,
    DeleteAlertCommand,
    InstanceTags,
    ResolveAlertCommand,
    UpdateAlertCommand,
)
from domain.alerting.model import InstanceKey
from domain.alerting.ports import AlertRuntime, AlertStore
from domain.alerting.query_handlers import (
    checked_rule,
    find_alert,
    not_found,
    view_of,
)
from domain.alerting.read_models import AlertDto
from domain.alerting.rule import AlertRule
from domain.alerting.runtime import AlertEngine
from domain.alerting.templates import builtin_template
from domain.changes import note_changes, note_target
from domain.errors import BadUserInput, Conflict
from domain.events import Event
from domain.metrics.events import MetricCollectedEvent
from domain.metrics.ports import MetricStore
from domain.ports import Clock

__all__ = [
    "acknowledge_alert",
    "create_alert",
    "create_alert_from_template",
    "delete_alert",
    "evaluate_points",
    "resolve_alert",
    "update_alert",
]

MAX_COMMENT = 2_000
_CHANGES = frozenset({"rule", "enabled"})


async def create_alert(
    command: CreateAlertCommand,
    events: list[Event],
    *,
    alerts: AlertStore,
    alert_runtime: AlertRuntime,
    metrics: MetricStore,
    retention_seconds: int,
    clock: Clock,
) -> AlertDto:
    rule = await checked_rule(metrics, retention_seconds, command.project, command.rule)
    alert = _new_alert(command.project, rule, command.enabled, command.actor, clock)
    return await _created(alert, alerts, alert_runtime)


async def create_alert_from_template(
    command: CreateAlertFromTemplateCommand,
    events: list[Event],
    *,
    alerts: AlertStore,
    alert_runtime: AlertRuntime,
    metrics: MetricStore,
    retention_seconds: int,
    clock: Clock,
) -> AlertDto:
    template = builtin_template(command.template)
    rule = template.build(command.params).to_dict()
    if command.name is not None:
        rule["name"] = command.name
    checked = await checked_rule(metrics, retention_seconds, command.project, rule)
    alert = _new_alert(
        command.project, checked, command.enabled, command.actor, clock, template.name
    )
    return await _created(alert, alerts, alert_runtime)


async def update_alert(
    command: UpdateAlertCommand,
    events: list[Event],
    *,
    alerts: AlertStore,
    alert_runtime: AlertRuntime,
    metrics: MetricStore,
    retention_seconds: int,
    clock: Clock,
) -> AlertDto:
    unknown = sorted(set(command.changes) - _CHANGES)
    if unknown or not command.changes:
        raise BadUserInput(f"an alert update changes rule and/or enabled, not {unknown}")
    current = await find_alert(alerts, command.project, command.alert_id)
    if current.version != command.expected_version:
        raise _conflict(current.version)
    rule = command.changes.get("rule")
    if rule is not None and not isinstance(rule, AlertRule):
        rule = {**current.rule.to_dict(), **rule}
    if rule is not None:
        rule = await checked_rule(metrics, retention_seconds, command.project, rule)
    enabled = command.changes.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise BadUserInput("enabled must be true or false")
    changed = current.changed(rule=rule, enabled=enabled, at_us=clock.now_us(), by=command.actor)
    note_target(alert=current.id)
    note_changes(_audited(current), _audited(changed))
    if not await alerts.save_alert(changed, expected_version=current.version):
        latest = await find_alert(alerts, command.project, command.alert_id)
        raise _conflict(latest.version)
    regrouped = changed.rule.group_by != current.rule.group_by
    moved = changed.placement != current.placement  # another kind, or an ANOMALY metric
    if current.enabled and (not changed.enabled or regrouped or moved):
        # Its instances end here: disabled, named by other tags, or evaluated elsewhere.
        why = (
            "alert disabled"
            if not changed.enabled
            else "alert regrouped"
            if regrouped
            else "alert moved"
        )
        await alert_runtime.remove(current, by=command.actor, comment=why)
    if changed.enabled:
        await alert_runtime.reload(changed)
    return await view_of(alerts, alert_runtime, changed)


async def delete_alert(
    command: DeleteAlertCommand,
    events: list[Event],
    *,
    alerts: AlertStore,
    alert_runtime: AlertRuntime,
) -> bool:
    alert = await find_alert(alerts, command.project, command.alert_id)
    note_target(alert=alert.id)
    note_changes(_audited(alert), None)
    if alert.enabled:
        await alert_runtime.remove(alert, by=command.actor, comment="alert deleted")
    if not await alerts.delete_alert(command.project, command.alert_id):
        raise not_found(command.project, command.alert_id)
    return True


async def acknowledge_alert(
    command: AcknowledgeAlertCommand,
    events: list[Event],
    *,
    alerts: AlertStore,
    alert_runtime: AlertRuntime,
) -> AlertDto:
    alert = await _running(alerts, command.project, command.alert_id)
    await alert_runtime.acknowledge(
        alert,
        _instance_key(alert.rule, command.instance),
        by=command.actor,
        comment=_comment(command.comment),
        until_us=command.until_us,
    )
    return await view_of(alerts, alert_runtime, alert)


async def resolve_alert(
    command: ResolveAlertCommand,
    events: list[Event],
    *,
    alerts: AlertStore,
    alert_runtime: AlertRuntime,
) -> AlertDto:
    alert = await _running(alerts, command.project, command.alert_id)
    await alert_runtime.resolve(
        alert,
        _instance_key(alert.rule, command.instance),
        by=command.actor,
        comment=_comment(command.comment),
    )
    return await view_of(alerts, alert_runtime, alert)


async def evaluate_points(event: MetricCollectedEvent, *, alert_engine: AlertEngine) -> None:
    """Every new point against the rules of its metric, inside the ingest command: a crossing
    is published before the ingest request is answered."""
    await alert_engine.on_points(event)


# -- helpers --------------------------------------------------------------------------------


def _new_alert(
    project: str, rule: AlertRule, enabled: bool, actor: str, clock: Clock, template: str = ""
) -> Alert:
    return Alert(
        id=uuid.uuid4().hex,
        project=project,
        rule=rule,
        created_at_us=clock.now_us(),
        created_by=actor,
        enabled=enabled,
        template=template,
    )


def _audited(alert: Alert) -> dict[str, Any]:
    """What the audit trail compares of an alert: its state and each rule field."""
    return {"enabled": alert.enabled, **{f"rule.{k}": v for k, v in alert.rule.to_dict().items()}}


async def _created(alert: Alert, alerts: AlertStore, alert_runtime: AlertRuntime) -> AlertDto:
    note_target(alert=alert.id)
    note_changes(None, _audited(alert))
    await alerts.save_alert(alert)
    if alert.enabled:
        await alert_runtime.reload(alert)
    return await view_of(alerts, alert_runtime, alert)


async def _running(alerts: AlertStore, project: str, alert_id: str) -> Alert:
    alert = await find_alert(alerts, project, alert_id)
    if not alert.enabled:
        raise BadUserInput("the alert is disabled: enable it before acknowledging or resolving")
    return alert


def _instance_key(rule: AlertRule, tags: InstanceTags) -> InstanceKey | None:
    if tags is None:
        return None
    unknown = sorted(set(tags) - set(rule.group_by))
    if unknown:
        raise BadUserInput(
            f"instance names tags {unknown} that the rule does not group by "
            f"({', '.join(rule.group_by) or 'no tags: its one instance is {}'})"
        )
    return rule.group_of(tags)


def _comment(comment: str) -> str:
    if len(comment) > MAX_COMMENT:
        raise BadUserInput(f"a comment holds at most {MAX_COMMENT} characters")
    return comment


def _conflict(version: int) -> Conflict:
    return Conflict("alert", version)
