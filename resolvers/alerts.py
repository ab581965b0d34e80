"""Alert operations: one thin function per mutation and query, each a command or a query
handed to the bus."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from domain.alerting.commands import (
    AcknowledgeAlertCommand,
    CreateAlertCommand,
    CreateAlertFromTemplateCommand,
    DeleteAlertCommand,
    ResolveAlertCommand,
    UpdateAlertCommand,
)
from domain.alerting.queries import (
    GetAlertsByIdQuery,
    GetAlertsListQuery,
    ListAlertTemplatesQuery,
    PreviewAlertQuery,
)
from domain.alerting.read_models import AlertDto
from domain.commands import Command
from domain.durations import parse_step
from domain.errors import BadUserInput
from schema.alerts import (
    Alert,
    AlertConnection,
    AlertPreview,
    AlertRuleInput,
    AlertSeverity,
    AlertState,
    AlertTemplate,
    instance_of,
)
from schema.context import Info
from schema.scalars import JSONObject, Tags
from schema.types import PageInfo, to_us

__all__ = [
    "acknowledge_alert",
    "alert",
    "alert_templates",
    "alerts",
    "create_alert",
    "create_alert_from_template",
    "delete_alert",
    "preview_alert",
    "resolve_alert",
    "update_alert",
]

DEFAULT_PREVIEW_US = 86_400_000_000  # a day
DEFAULT_PREVIEW_STEP = "10s"  # the live tick's default
From = Annotated[datetime | None, strawberry.argument(name="from")]


async def _handle(info: Info, command: Command) -> Any:
    return await info.context.bus.handle(
        command, actor=info.context.require_principal().subject, request_id=info.context.request_id
    )


def _actor(info: Info) -> str:
    return info.context.require_principal().subject


async def create_alert(
    info: Info, project: str, rule: AlertRuleInput, enabled: bool = True
) -> Alert:
    """CreateAlertCommand: the rule is checked (metric known, periods within retention)."""
    dto: AlertDto = await _handle(
        info, CreateAlertCommand(project, rule.to_rule(), enabled, actor=_actor(info))
    )
    return Alert.of(dto)


async def create_alert_from_template(
    info: Info,
    project: str,
    template: str,
    params: JSONObject | None = None,
    name: str | None = None,
    enabled: bool = True,
) -> Alert:
    """A built-in template (see alertTemplates) filled with `params`, e.g. {"percent": 80}."""
    if params is not None and not isinstance(params, dict):
        raise BadUserInput("params must be an object of numbers")
    command = CreateAlertFromTemplateCommand(
        project, template, dict(params or {}), name, enabled, actor=_actor(info)
    )
    return Alert.of(await _handle(info, command))


async def update_alert(
    info: Info,
    project: str,
    alert_id: strawberry.ID,
    expected_version: int,
    rule: AlertRuleInput | None = None,
    enabled: bool | None = None,
) -> Alert:
    """UpdateAlertCommand: replace the rule and/or switch the alert on or off; refused
    when the alert is no longer at `expectedVersion`."""
    changes: dict[str, Any] = {}
    if rule is not None:
        changes["rule"] = rule.to_rule()
    if enabled is not None:
        changes["enabled"] = enabled
    command = UpdateAlertCommand(
        project, str(alert_id), expected_version, changes, actor=_actor(info)
    )
    return Alert.of(await _handle(info, command))


async def delete_alert(info: Info, project: str, alert_id: strawberry.ID) -> bool:
    """Delete the alert with its instances and history; what fired is resolved first."""
    done: bool = await _handle(info, DeleteAlertCommand(project, str(alert_id), _actor(info)))
    return done


async def acknowledge_alert(
    info: Info,
    project: str,
    alert_id: strawberry.ID,
    instance: Tags | None = None,
    until: datetime | None = None,
    comment: str = "",
) -> Alert:
    """AcknowledgeAlertCommand: one instance (its group-by tags), or every firing one;
    `until` makes it expire back to FIRING if the condition still holds."""
    command = AcknowledgeAlertCommand(
        project, str(alert_id), instance_of(instance), to_us(until), comment, _actor(info)
    )
    return Alert.of(await _handle(info, command))


async def resolve_alert(
    info: Info,
    project: str,
    alert_id: strawberry.ID,
    instance: Tags | None = None,
    comment: str = "",
) -> Alert:
    """ResolveAlertCommand: one instance, or every one not OK or resolved; a condition that
    still holds fires again at the next point."""
    command = ResolveAlertCommand(
        project, str(alert_id), instance_of(instance), comment, _actor(info)
    )
    return Alert.of(await _handle(info, command))


async def alert(info: Info, id: strawberry.ID, project: str) -> Alert:
    """GetAlertsByIdQuery; another project's id answers NOT_FOUND, as a missing one."""
    return Alert.of(await info.context.bus.ask(GetAlertsByIdQuery(project, str(id))))


async def alerts(
    info: Info,
    project: str,
    state: AlertState | None = None,  # type: ignore[valid-type]
    severity: AlertSeverity | None = None,  # type: ignore[valid-type]
    first: int = 100,
    after: strawberry.ID | None = None,
) -> AlertConnection:
    """GetAlertsListQuery: oldest first, filtered by current state and severity."""
    page = await info.context.bus.ask(
        GetAlertsListQuery(project, state, severity, first, None if after is None else str(after))
    )
    items = [Alert.of(dto) for dto in page.items]
    return AlertConnection(
        items=items,
        page_info=PageInfo(
            end_cursor=str(items[-1].id) if items else None, has_next_page=page.has_next_page
        ),
    )


async def alert_templates(info: Info) -> list[AlertTemplate]:
    found = await info.context.bus.ask(ListAlertTemplatesQuery())
    return [AlertTemplate.of(t) for t in found]


async def preview_alert(
    info: Info,
    project: str,
    rule: AlertRuleInput,
    from_: From = None,
    to: datetime | None = None,
    step: str = DEFAULT_PREVIEW_STEP,
) -> AlertPreview:
    """Replay the rule over stored points of [from, to) (default: the day before now),
    ticking every `step`; answers the transitions and notifications it would have made."""
    domain_rule = rule.to_rule()
    end = to_us(to) or info.context.clock.now_us()
    start = to_us(from_) or end - DEFAULT_PREVIEW_US
    result = await info.context.bus.ask(
        PreviewAlertQuery(project, domain_rule, start, end, parse_step(step))
    )
    return AlertPreview.of(domain_rule, result)
