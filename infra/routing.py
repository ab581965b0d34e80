"""The routing table: every command, query and event handler of Vigil."""

from __future__ import annotations

from domain.alerting.handlers import (
    ALERT_COMMAND_HANDLERS,
    ALERT_EVENTS,
    ALERT_QUERY_HANDLERS,
)
from domain.commands import Command
from domain.dashboards.handlers import (
    DASHBOARD_COMMAND_HANDLERS,
    DASHBOARD_EVENTS,
    DASHBOARD_QUERY_HANDLERS,
)
from domain.events import Event, to_message
from domain.messagebus import CommandHandler, EventHandler, QueryHandler, Services
from domain.metrics.commands import CreateMetricsCommand
from domain.metrics.events import MetricCollectedEvent
from domain.metrics.handlers import create_metrics
from domain.metrics.queries import (
    GetMetricNamesQuery,
    GetMetricsByIdQuery,
    GetMetricSeriesQuery,
    GetMetricsListQuery,
    GetTagKeysQuery,
    GetTagValuesQuery,
)
from domain.metrics.query_handlers import (
    get_metric,
    list_metrics,
    metric_names,
    metric_series,
    tag_keys,
    tag_values,
)
from domain.notifications.handlers import (
    NOTIFICATION_ALERT_HANDLERS,
    NOTIFICATION_COMMAND_HANDLERS,
    NOTIFICATION_EVENTS,
    NOTIFICATION_QUERY_HANDLERS,
)
from domain.queries import Query
from domain.system.queries import GetAuditLogQuery, GetSystemHealthQuery
from domain.system.query_handlers import audit_log, system_health

__all__ = ["COMMAND_HANDLERS", "EVENT_HANDLERS", "QUERY_HANDLERS"]


async def publish_event(event: Event, services: Services) -> None:
    await services.publisher.publish(event.channel(), to_message(event))


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
