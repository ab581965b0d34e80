"""Alert query handlers, and the look-ups and checks the command handlers share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.alerting.alert import Alert
from domain.alerting.model import Transition
from domain.alerting.points import read_points
from domain.alerting.preview import MAX_PREVIEW_POINTS, preview
from domain.alerting.queries import (
    GetAlertHistoryQuery,
    GetAlertsByIdQuery,
    GetAlertsListQuery,
    ListAlertTemplatesQuery,
    PreviewAlertQuery,
)
from domain.alerting.read_models import AlertDto, AlertPage, AlertPreviewDto
from domain.alerting.rule import AlertRule
from domain.alerting.templates import BUILTIN_TEMPLATES, AlertTemplate
from domain.errors import BadUserInput, NotFound
from domain.messagebus import Services

__all__ = [
    "alert_history",
    "alert_templates",
    "checked_rule",
    "find_alert",
    "get_alert",
    "list_alerts",
    "not_found",
    "preview_alert",
    "view_of",
]

MAX_PAGE = 1_000


async def get_alert(query: GetAlertsByIdQuery, services: Services) -> AlertDto:
    return await view_of(services, await find_alert(services, query.project, query.id))


async def list_alerts(query: GetAlertsListQuery, services: Services) -> AlertPage:
    _check_first(query.first)
    alerts = await services.alerts.list_alerts(query.project)
    if query.after is not None:
        ids = [a.id for a in alerts]
        if query.after not in ids:
            raise BadUserInput("after is not the id of an alert of this project")
        alerts = alerts[ids.index(query.after) + 1 :]
    items: list[AlertDto] = []
    for alert in alerts:
        view = await view_of(services, alert)
        if query.state not in (None, view.state) or query.severity not in (None, view.severity):
            continue
        if len(items) == query.first:
            return AlertPage(items, has_next_page=True)
        items.append(view)
    return AlertPage(items, has_next_page=False)


async def alert_history(query: GetAlertHistoryQuery, services: Services) -> list[Transition]:
    _check_first(query.first)
    await find_alert(services, query.project, query.alert_id)
    return await services.alerts.list_transitions(
        query.project, query.alert_id, first=query.first, before_us=query.before_us
    )


async def alert_templates(
    query: ListAlertTemplatesQuery, services: Services
) -> list[AlertTemplate]:
    return list(BUILTIN_TEMPLATES)


async def preview_alert(query: PreviewAlertQuery, services: Services) -> AlertPreviewDto:
    """The live evaluator replayed over stored points; nothing is saved or published."""
    rule = await checked_rule(services, query.project, query.rule)
    if query.end_us <= query.start_us:
        raise BadUserInput("from must be before to")
    points = await read_points(
        services.metrics,
        query.project,
        rule.metric,
        matchers=rule.matchers,
        start_us=query.start_us,
        end_us=query.end_us,
        limit=MAX_PREVIEW_POINTS,
        over_limit=f"a preview replays at most {MAX_PREVIEW_POINTS} points; shorten the range",
    )
    result = preview(
        rule, points, start_us=query.start_us, end_us=query.end_us, tick_us=query.step_us
    )
    return AlertPreviewDto(result, len(points))


# -- shared with the command handlers -------------------------------------------------------


async def checked_rule(
    services: Services, project: str, rule: AlertRule | Mapping[str, Any]
) -> AlertRule:
    """A valid rule over a metric the project has, whose periods fit in the retention."""
    checked = rule if isinstance(rule, AlertRule) else AlertRule.from_dict(rule)
    checked.validate(retention_seconds=services.limits.retention_seconds)
    if await services.metrics.metric_names(project, checked.metric, 1) != [checked.metric]:
        raise BadUserInput(
            f"unknown metric {checked.metric!r}: project {project!r} has no points of it",
            errors=[f"metric {checked.metric!r} is not in the project's catalogue"],
        )
    return checked


async def find_alert(services: Services, project: str, alert_id: str) -> Alert:
    """The alert, or NotFound: a foreign id answers exactly as a missing one."""
    alert = await services.alerts.get_alert(project, alert_id)
    if alert is None:
        raise not_found(project, alert_id)
    return alert


async def view_of(services: Services, alert: Alert) -> AlertDto:
    """The alert with its instances: live from the engine, else as last stored."""
    live = services.alert_engine.instances(alert.id) if alert.enabled else None
    states = live if live is not None else await services.alerts.load_instances(alert.id)
    width = len(alert.rule.group_by)  # states kept from an older group_by no longer apply
    return AlertDto(
        alert, tuple(sorted((s for s in states if len(s.key) == width), key=lambda s: s.key))
    )


def not_found(project: str, alert_id: str) -> NotFound:
    return NotFound(f"no alert {alert_id!r} in project {project!r}")


def _check_first(first: int) -> None:
    if not 1 <= first <= MAX_PAGE:
        raise BadUserInput(f"first must be between 1 and {MAX_PAGE}")
