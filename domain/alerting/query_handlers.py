"""Alert query handlers, and the look-ups and checks the command handlers share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.alerting.alert import Alert
from domain.alerting.evaluator import Point
from domain.alerting.model import RuleKind, Transition
from domain.alerting.noise_report import alert_noise
from domain.alerting.points import read_points
from domain.alerting.ports import AlertRuntime, AlertStore, Forecaster, HistoryScorer
from domain.alerting.preview import MAX_PREVIEW_POINTS, preview
from domain.alerting.preview_derived import anomaly_points, forecast_points
from domain.alerting.queries import (
    GetAlertHistoryQuery,
    GetAlertsByIdQuery,
    GetAlertsListQuery,
    ListAlertTemplatesQuery,
    PreviewAlertQuery,
)
from domain.alerting.read_models import AlertDto, AlertPreviewDto
from domain.alerting.rule import AlertRule
from domain.alerting.templates import BUILTIN_TEMPLATES, AlertTemplate
from domain.errors import BadUserInput, NotFound
from domain.metrics.ports import MetricStore
from domain.paging import Page, check_first

LIST_CHUNK = 200  # alerts read from the store at a time while filtering a page

__all__ = [
    "alert_history",
    "alert_noise",
    "alert_templates",
    "checked_rule",
    "find_alert",
    "get_alert",
    "list_alerts",
    "not_found",
    "preview_alert",
    "view_of",
]


async def get_alert(
    query: GetAlertsByIdQuery, *, alerts: AlertStore, alert_runtime: AlertRuntime
) -> AlertDto:
    alert = await find_alert(alerts, query.project, query.id)
    return await view_of(alerts, alert_runtime, alert)


async def list_alerts(
    query: GetAlertsListQuery, *, alerts: AlertStore, alert_runtime: AlertRuntime
) -> Page[AlertDto]:
    """Pages through the store, a chunk at a time, until `first` alerts pass the filters
    (their state is live, so it cannot be filtered in the store)."""
    check_first(query.first)
    after = query.after
    if after is not None and await alerts.get_alert(query.project, after) is None:
        raise BadUserInput("after is not the id of an alert of this project")
    chunk = max(query.first + 1, LIST_CHUNK)
    items: list[AlertDto] = []
    while True:
        found = await alerts.list_alerts(query.project, after=after, first=chunk)
        for alert in found:
            view = await view_of(alerts, alert_runtime, alert)
            if query.state not in (None, view.state) or query.severity not in (None, view.severity):
                continue
            if len(items) == query.first:
                return Page(items, has_next_page=True)
            items.append(view)
        if len(found) < chunk:
            return Page(items, has_next_page=False)
        after = found[-1].id


async def alert_history(query: GetAlertHistoryQuery, *, alerts: AlertStore) -> list[Transition]:
    check_first(query.first)
    await find_alert(alerts, query.project, query.alert_id)
    return await alerts.list_transitions(
        query.project, query.alert_id, first=query.first, before_us=query.before_us
    )


async def alert_templates(query: ListAlertTemplatesQuery) -> list[AlertTemplate]:
    return list(BUILTIN_TEMPLATES)


async def preview_alert(
    query: PreviewAlertQuery,
    *,
    metrics: MetricStore,
    retention_seconds: int,
    forecaster: Forecaster | None = None,
    history_scorer: HistoryScorer | None = None,
) -> AlertPreviewDto:
    """The live evaluator replayed over stored points (for ANOMALY and FORECAST rules, over
    their derived series computed from them); nothing is saved or published."""
    rule = await checked_rule(metrics, retention_seconds, query.project, query.rule)
    if query.end_us <= query.start_us:
        raise BadUserInput("from must be before to")
    start, end = query.start_us, query.end_us
    if rule.kind is RuleKind.ANOMALY:
        points = await anomaly_points(metrics, history_scorer, query.project, rule, start, end)
    elif rule.kind is RuleKind.FORECAST:
        points = await forecast_points(metrics, forecaster, query.project, rule, start, end)
    else:
        points = await _stored_points(metrics, query.project, rule, start, end)
    result = preview(rule, points, start_us=start, end_us=end, tick_us=query.step_us)
    return AlertPreviewDto(result, len(points))


async def _stored_points(
    metrics: MetricStore, project: str, rule: AlertRule, start_us: int, end_us: int
) -> list[Point]:
    return await read_points(
        metrics,
        project,
        rule.metric,
        matchers=rule.matchers,
        start_us=start_us,
        end_us=end_us,
        limit=MAX_PREVIEW_POINTS,
        over_limit=f"a preview replays at most {MAX_PREVIEW_POINTS} points; shorten the range",
    )


# -- shared with the command handlers -------------------------------------------------------


async def checked_rule(
    metrics: MetricStore,
    retention_seconds: int,
    project: str,
    rule: AlertRule | Mapping[str, Any],
) -> AlertRule:
    """A valid rule over a metric the project has, whose periods fit in the retention."""
    checked = rule if isinstance(rule, AlertRule) else AlertRule.from_dict(rule)
    checked.validate(retention_seconds=retention_seconds)
    if await metrics.metric_names(project, checked.metric, 1) != [checked.metric]:
        raise BadUserInput(
            f"unknown metric {checked.metric!r}: project {project!r} has no points of it",
            errors=[f"metric {checked.metric!r} is not in the project's catalogue"],
        )
    return checked


async def find_alert(alerts: AlertStore, project: str, alert_id: str) -> Alert:
    """The alert, or NotFound: a foreign id answers exactly as a missing one."""
    alert = await alerts.get_alert(project, alert_id)
    if alert is None:
        raise not_found(project, alert_id)
    return alert


async def view_of(alerts: AlertStore, alert_runtime: AlertRuntime, alert: Alert) -> AlertDto:
    """The alert with its instances: live from the engine, else as last stored."""
    live = alert_runtime.instances(alert.id) if alert.enabled else None
    states = live if live is not None else await alerts.load_instances(alert.id)
    width = len(alert.rule.group_by)  # states kept from an older group_by no longer apply
    return AlertDto(
        alert, tuple(sorted((s for s in states if len(s.key) == width), key=lambda s: s.key))
    )


def not_found(project: str, alert_id: str) -> NotFound:
    return NotFound(f"no alert {alert_id!r} in project {project!r}")
