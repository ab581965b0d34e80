"""Alert handlers: one short function per alert command, and the tables routing alert
commands and queries (domain/handlers.py merges them into the bus's tables)."""

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
from domain.alerting.events import (
    AlertAcknowledgedEvent,
    AlertResolvedEvent,
    AlertTriggeredEvent,
    ThresholdExceededEvent,
    events_for,
)
from domain.alerting.model import InstanceKey, Transition
from domain.alerting.queries import (
    GetAlertHistoryQuery,
    GetAlertsByIdQuery,
    GetAlertsListQuery,
    ListAlertTemplatesQuery,
    PreviewAlertQuery,
)
from domain.alerting.query_handlers import (
    alert_history,
    alert_templates,
    checked_rule,
    find_alert,
    get_alert,
    list_alerts,
    not_found,
    preview_alert,
    view_of,
)
from domain.alerting.read_models import AlertDto
from domain.alerting.rule import AlertRule
from domain.alerting.templates import builtin_template
from domain.commands import Command
from domain.errors import BadUserInput
from domain.events import Event
from domain.messagebus import CommandHandler, QueryHandler, Services
from domain.queries import Query

__all__ = ["ALERT_COMMAND_HANDLERS", "ALERT_EVENTS", "ALERT_QUERY_HANDLERS"]

MAX_COMMENT = 2_000
_CHANGES = frozenset({"rule", "enabled"})


async def create_alert(
    command: CreateAlertCommand, services: Services, events: list[Event]
) -> AlertDto:
    rule = await checked_rule(services, command.project, command.rule)
    return await _create(services, command.project, rule, command.enabled, command.actor)


async def create_alert_from_template(
    command: CreateAlertFromTemplateCommand, services: Services, events: list[Event]
) -> AlertDto:
    template = builtin_template(command.template)
    rule = template.build(command.params).to_dict()
    if command.name is not None:
        rule["name"] = command.name
    checked = await checked_rule(services, command.project, rule)
    return await _create(
        services, command.project, checked, command.enabled, command.actor, template.name
    )


async def update_alert(
    command: UpdateAlertCommand, services: Services, events: list[Event]
) -> AlertDto:
    unknown = sorted(set(command.changes) - _CHANGES)
    if unknown or not command.changes:
        raise BadUserInput(f"an alert update changes rule and/or enabled, not {unknown}")
    current = await find_alert(services, command.project, command.alert_id)
    if current.version != command.expected_version:
        raise _conflict(current.version)
    rule = command.changes.get("rule")
    if rule is not None and not isinstance(rule, AlertRule):
        rule = await checked_rule(services, command.project, {**current.rule.to_dict(), **rule})
    elif rule is not None:
        rule = await checked_rule(services, command.project, rule)
    enabled = command.changes.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise BadUserInput("enabled must be true or false")
    changed = current.changed(
        rule=rule, enabled=enabled, at_us=services.clock.now_us(), by=command.actor
    )
    if not await services.alerts.save_alert(changed, expected_version=current.version):
        latest = await find_alert(services, command.project, command.alert_id)
        raise _conflict(latest.version)
    engine = services.alert_engine
    regrouped = changed.rule.group_by != current.rule.group_by
    if current.enabled and (not changed.enabled or regrouped):
        # Its instances end here: disabled, or named by other tags from now on.
        why = "alert disabled" if not changed.enabled else "alert regrouped"
        events += _events(current, await engine.remove(current, by=command.actor, comment=why))
    if changed.enabled:
        await engine.reload(changed)
    return await view_of(services, changed)


async def delete_alert(
    command: DeleteAlertCommand, services: Services, events: list[Event]
) -> bool:
    alert = await find_alert(services, command.project, command.alert_id)
    if alert.enabled:
        moved = await services.alert_engine.remove(alert, by=command.actor, comment="alert deleted")
        events += _events(alert, moved)
    if not await services.alerts.delete_alert(command.project, command.alert_id):
        raise not_found(command.project, command.alert_id)
    return True


async def acknowledge_alert(
    command: AcknowledgeAlertCommand, services: Services, events: list[Event]
) -> AlertDto:
    alert = await _running(services, command.project, command.alert_id)
    moved = await services.alert_engine.acknowledge(
        alert,
        _instance_key(alert.rule, command.instance),
        by=command.actor,
        comment=_comment(command.comment),
        until_us=command.until_us,
    )
    events += _events(alert, moved, ack_until_us=command.until_us)
    return await view_of(services, alert)


async def resolve_alert(
    command: ResolveAlertCommand, services: Services, events: list[Event]
) -> AlertDto:
    alert = await _running(services, command.project, command.alert_id)
    moved = await services.alert_engine.resolve(
        alert,
        _instance_key(alert.rule, command.instance),
        by=command.actor,
        comment=_comment(command.comment),
    )
    events += _events(alert, moved)
    return await view_of(services, alert)


# -- helpers --------------------------------------------------------------------------------


async def _create(
    services: Services,
    project: str,
    rule: AlertRule,
    enabled: bool,
    actor: str,
    template: str = "",
) -> AlertDto:
    alert = Alert(
        id=uuid.uuid4().hex,
        project=project,
        rule=rule,
        created_at_us=services.clock.now_us(),
        created_by=actor,
        enabled=enabled,
        template=template,
    )
    await services.alerts.save_alert(alert)
    if enabled:
        await services.alert_engine.reload(alert)
    return await view_of(services, alert)


async def _running(services: Services, project: str, alert_id: str) -> Alert:
    alert = await find_alert(services, project, alert_id)
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


def _events(alert: Alert, moved: list[Transition], **options: Any) -> list[Event]:
    return [e for t in moved for e in events_for(alert.project, alert.id, alert.rule, t, **options)]


def _comment(comment: str) -> str:
    if len(comment) > MAX_COMMENT:
        raise BadUserInput(f"a comment holds at most {MAX_COMMENT} characters")
    return comment


def _conflict(version: int) -> BadUserInput:
    return BadUserInput(
        f"alert was changed by someone else (version {version}); reload and retry",
        current_version=version,
    )


ALERT_COMMAND_HANDLERS: dict[type[Command], CommandHandler] = {
    CreateAlertCommand: create_alert,
    CreateAlertFromTemplateCommand: create_alert_from_template,
    UpdateAlertCommand: update_alert,
    DeleteAlertCommand: delete_alert,
    AcknowledgeAlertCommand: acknowledge_alert,
    ResolveAlertCommand: resolve_alert,
}
ALERT_QUERY_HANDLERS: dict[type[Query], QueryHandler] = {
    GetAlertsByIdQuery: get_alert,
    GetAlertsListQuery: list_alerts,
    GetAlertHistoryQuery: alert_history,
    ListAlertTemplatesQuery: alert_templates,
    PreviewAlertQuery: preview_alert,
}
# Published on the event bus (channel `alerts.<project>`) as they happen.
ALERT_EVENTS: tuple[type[Event], ...] = (
    ThresholdExceededEvent,
    AlertTriggeredEvent,
    AlertResolvedEvent,
    AlertAcknowledgedEvent,
)
