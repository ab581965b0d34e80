"""Handlers: one short function per command, query and event, routed by the tables below."""

from __future__ import annotations

import time
from dataclasses import fields
from typing import Any

from domain.alerting.handlers import (
    ALERT_COMMAND_HANDLERS,
    ALERT_EVENTS,
    ALERT_QUERY_HANDLERS,
)
from domain.commands import Command, CreateMetricsCommand
from domain.dashboards.handlers import (
    DASHBOARD_COMMAND_HANDLERS,
    DASHBOARD_EVENTS,
    DASHBOARD_QUERY_HANDLERS,
)
from domain.dtos import (
    AuditEntry,
    ComponentHealthDto,
    HealthCheckDto,
    IngestReceipt,
    MetricPage,
    SeriesResult,
)
from domain.errors import BadUserInput, NotFound
from domain.events import Event, MetricCollectedEvent
from domain.ingest import decode_point_id, validate_points
from domain.messagebus import CommandHandler, EventHandler, QueryHandler, Services
from domain.metrics import Metric
from domain.notifications.handlers import (
    NOTIFICATION_ALERT_HANDLERS,
    NOTIFICATION_COMMAND_HANDLERS,
    NOTIFICATION_EVENTS,
    NOTIFICATION_QUERY_HANDLERS,
)
from domain.queries import (
    GetAuditLogQuery,
    GetMetricNamesQuery,
    GetMetricsByIdQuery,
    GetMetricSeriesQuery,
    GetMetricsListQuery,
    GetSystemHealthQuery,
    GetTagKeysQuery,
    GetTagValuesQuery,
    Query,
)

__all__ = ["COMMAND_HANDLERS", "EVENT_HANDLERS", "MAX_BUCKETS", "QUERY_HANDLERS", "to_message"]

MAX_BUCKETS = 11_000  # a chart wider than this many pixels is not one we serve in one query
MAX_PAGE = 1_000


async def create_metrics(
    command: CreateMetricsCommand, services: Services, events: list[Event]
) -> IngestReceipt:
    batch = validate_points(
        command.project,
        command.points,
        now_us=services.clock.now_us(),
        limits=services.limits,
        cache=services.series_cache,
    )
    result = await services.metrics.append(batch, idempotency_key=command.idempotency_key)
    if not result.replayed:
        events.append(
            MetricCollectedEvent(
                project=batch.project,
                series=[
                    {
                        "id": s.id,
                        "name": s.name,
                        "tags": s.tags,
                        "type": s.type.value,
                        "category": s.category,
                        "source": s.source,
                    }
                    for s in batch.series
                ],
                series_index=batch.series_index,
                timestamps_us=batch.timestamps_us,
                values=batch.values,
            )
        )
    return IngestReceipt(accepted=result.accepted, replayed=result.replayed, batch=batch)


async def get_metric(query: GetMetricsByIdQuery, services: Services) -> Metric:
    decoded = decode_point_id(query.id)
    point = None
    if decoded is not None:
        point = await services.metrics.get_point(query.project, *decoded)
    if point is None:
        raise NotFound(f"no metric {query.id!r} in project {query.project!r}")
    return point


async def list_metrics(query: GetMetricsListQuery, services: Services) -> MetricPage:
    if not 1 <= query.first <= MAX_PAGE:
        raise BadUserInput(f"first must be between 1 and {MAX_PAGE}")
    _check_range(query.start_us, query.end_us)
    return await services.metrics.list_points(query)


async def metric_series(query: GetMetricSeriesQuery, services: Services) -> SeriesResult:
    _check_range(query.start_us, query.end_us)
    if query.step_us is not None:
        if query.step_us <= 0:
            raise BadUserInput("step must be positive")
        if -(-(query.end_us - query.start_us) // query.step_us) > MAX_BUCKETS:
            raise BadUserInput(f"range / step gives more than {MAX_BUCKETS} buckets")
    return await services.metrics.aggregate(query)


async def metric_names(query: GetMetricNamesQuery, services: Services) -> list[str]:
    return await services.metrics.metric_names(query.project, query.prefix, _limit(query.limit))


async def tag_keys(query: GetTagKeysQuery, services: Services) -> list[str]:
    return await services.metrics.tag_keys(query.project, query.name)


async def tag_values(query: GetTagValuesQuery, services: Services) -> list[str]:
    return await services.metrics.tag_values(
        query.project, query.key, query.name, _limit(query.limit)
    )


async def system_health(query: GetSystemHealthQuery, services: Services) -> HealthCheckDto:
    components = []
    for check in services.health_checks:
        started = time.perf_counter()
        try:
            version, status, detail = await check.check(), "ok", ""
        except Exception as exc:  # a component that is down is reported, not raised
            version, status, detail = "", "down", type(exc).__name__
        latency = (time.perf_counter() - started) * 1000
        components.append(ComponentHealthDto(check.name, status, latency, version, detail))
    down = sum(c.status != "ok" for c in components)
    overall = "ok" if not down else ("down" if down == len(components) else "degraded")
    uptime = (services.clock.now_us() - services.started_us) / 1e6
    return HealthCheckDto(overall, services.version, uptime, components)


async def audit_log(query: GetAuditLogQuery, services: Services) -> list[AuditEntry]:
    if not 1 <= query.first <= MAX_PAGE:
        raise BadUserInput(f"first must be between 1 and {MAX_PAGE}")
    return await services.audit.list_entries(query)


async def publish_event(event: Event, services: Services) -> None:
    await services.publisher.publish(event.channel(), to_message(event))


def to_message(event: Event) -> dict[str, Any]:
    """An event as a JSON-ready dict; shallow on purpose, the columns are already lists."""
    message: dict[str, Any] = {"type": type(event).__name__}
    for f in fields(event):  # type: ignore[arg-type]
        message[f.name] = getattr(event, f.name)
    return message


def _check_range(start_us: int | None, end_us: int | None) -> None:
    if start_us is not None and end_us is not None and start_us >= end_us:
        raise BadUserInput("from must be before to")


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise BadUserInput(f"limit must be between 1 and {MAX_PAGE}")
    return limit


COMMAND_HANDLERS: dict[type[Command], CommandHandler] = {
    CreateMetricsCommand: create_metrics,
    **ALERT_COMMAND_HANDLERS,
    **DASHBOARD_COMMAND_HANDLERS,
    **NOTIFICATION_COMMAND_HANDLERS,
}
QUERY_HANDLERS: dict[type[Query], QueryHandler] = {
    GetMetricsByIdQuery: get_metric,
    GetMetricsListQuery: list_metrics,
    GetMetricSeriesQuery: metric_series,
    GetMetricNamesQuery: metric_names,
    GetTagKeysQuery: tag_keys,
    GetTagValuesQuery: tag_values,
    GetSystemHealthQuery: system_health,
    GetAuditLogQuery: audit_log,
    **ALERT_QUERY_HANDLERS,
    **DASHBOARD_QUERY_HANDLERS,
    **NOTIFICATION_QUERY_HANDLERS,
}
EVENT_HANDLERS: dict[type[Event], list[EventHandler]] = {
    MetricCollectedEvent: [publish_event],
    **{event: [publish_event] for event in ALERT_EVENTS},
    **{event: [publish_event] for event in DASHBOARD_EVENTS},
    **{event: [publish_event] for event in NOTIFICATION_EVENTS},
}
# The notification router hears alert events after they are published.
for _event, _handlers in NOTIFICATION_ALERT_HANDLERS.items():
    EVENT_HANDLERS.setdefault(_event, []).extend(_handlers)
