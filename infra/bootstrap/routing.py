"""The routing table: every command, query and event handler of Vigil, in one place.

Handlers name their dependencies as keyword-only parameters; `build_bus` binds them from
the dependencies that `Vigil.start` assembles (and tests pass fakes the same way).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from domain.alerting import handlers as alerting
from domain.alerting import query_handlers as alert_queries
from domain.alerting.commands import (
    AcknowledgeAlertCommand,
    CreateAlertCommand,
    CreateAlertFromTemplateCommand,
    DeleteAlertCommand,
    ResolveAlertCommand,
    UpdateAlertCommand,
)
from domain.alerting.events import (
    AlertAcknowledgedEvent,
    AlertResolvedEvent,
    AlertTriggeredEvent,
    ThresholdExceededEvent,
)
from domain.alerting.queries import (
    GetAlertHistoryQuery,
    GetAlertNoiseQuery,
    GetAlertsByIdQuery,
    GetAlertsListQuery,
    ListAlertTemplatesQuery,
    PreviewAlertQuery,
)
from domain.analytics import handlers as analytics
from domain.analytics import query_handlers as analytics_queries
from domain.analytics.commands import CancelAnalyticsJobCommand, CreateAnalyticsJobCommand
from domain.analytics.events import AnalyticsCompletedEvent, AnalyticsProgressEvent
from domain.analytics.queries import (
    GetAnalyticsJobQuery,
    GetAnalyticsJobResultQuery,
    GetAnalyticsQuery,
    ListAnalyticsJobsQuery,
)

# -- anomaly detection and incidents (issue 15) ---------------------------------------------
from domain.anomaly import handlers as anomaly
from domain.anomaly import query_handlers as anomaly_queries
from domain.anomaly.commands import ConfigureAnomalyDetectionCommand
from domain.anomaly.events import AnomalyDetectedEvent
from domain.anomaly.queries import (
    GetAnomalyBandQuery,
    ListAnomaliesQuery,
    ListAnomalyDetectionsQuery,
)
from domain.commands import Command
from domain.compliance import handlers as compliance
from domain.compliance import query_handlers as compliance_queries
from domain.compliance.commands import (
    ApproveAccessCommand,
    RestoreAccessCommand,
    RevokeAccessCommand,
    RunComplianceCheckCommand,
    StartAccessReviewCommand,
)
from domain.compliance.events import AccessRevokedEvent, ComplianceCheckedEvent
from domain.compliance.queries import (
    GetAccessReviewQuery,
    GetComplianceReportQuery,
    ListAccessReviewsQuery,
    ListComplianceRunsQuery,
    ListRevocationsQuery,
    VerifyAuditLogQuery,
)
from domain.cost import handlers as cost
from domain.cost import query_handlers as cost_queries
from domain.cost.commands import ConfigurePricingCommand
from domain.cost.queries import GetCostReportQuery, GetPricingQuery
from domain.dashboards import handlers as dashboards
from domain.dashboards import query_handlers as dashboard_queries
from domain.dashboards.commands import (
    CreateDashboardCommand,
    DeleteDashboardCommand,
    DuplicateDashboardCommand,
    ImportDashboardCommand,
    RestoreDashboardCommand,
    UpdateDashboardCommand,
)
from domain.dashboards.events import (
    DashboardCreatedEvent,
    DashboardDeletedEvent,
    DashboardUpdatedEvent,
)
from domain.dashboards.queries import (
    ExportDashboardQuery,
    GetDashboardDataQuery,
    GetDashboardHistoryQuery,
    GetDashboardQuery,
    GetDashboardsListQuery,
)
from domain.events import Event, publish_event
from domain.incidents import handlers as incidents
from domain.incidents import query_handlers as incident_queries
from domain.incidents.commands import (
    AcknowledgeIncidentCommand,
    ConfigureIncidentsCommand,
    ResolveIncidentCommand,
)
from domain.incidents.events import IncidentUpdatedEvent
from domain.incidents.queries import (
    GetIncidentQuery,
    GetIncidentSettingsQuery,
    ListIncidentsQuery,
)
from domain.messagebus import CommandAudit, CommandGate, MessageBus, QueryAudit, bind
from domain.metrics import handlers as metrics
from domain.metrics import query_handlers as metric_queries
from domain.metrics.commands import CreateMetricsCommand
from domain.metrics.events import MetricCollectedEvent
from domain.metrics.queries import (
    GetMetricMetadataQuery,
    GetMetricNamesQuery,
    GetMetricsByIdQuery,
    GetMetricSeriesQuery,
    GetMetricsListQuery,
    GetTagKeysQuery,
    GetTagValuesQuery,
)
from domain.notifications import handlers as notifications
from domain.notifications import query_handlers as notification_queries
from domain.notifications.commands import (
    ConfigureNotificationCommand,
    ConfigureNotificationPolicyCommand,
    CreateSilenceCommand,
    ExpireSilenceCommand,
    SendTestNotificationCommand,
)
from domain.notifications.events import NotificationChannelDisabledEvent, NotificationSentEvent
from domain.notifications.queries import (
    GetDeliveryQuery,
    GetNotificationPolicyQuery,
    GetNotificationQuery,
    ListDeliveriesQuery,
    ListNotificationsQuery,
    ListSilencesQuery,
)
from domain.queries import Query
from domain.reports import handlers as reports
from domain.reports import query_handlers as report_queries
from domain.reports.commands import (
    CreateReportCommand,
    DeleteReportCommand,
    ExpireReportArtefactsCommand,
    RunReportCommand,
    UpdateReportCommand,
)
from domain.reports.events import ReportGeneratedEvent
from domain.reports.queries import (
    GetReportQuery,
    GetReportRunQuery,
    ListReportRunsQuery,
    ListReportsQuery,
)
from domain.reports.running import run_report
from domain.storage.retention import handlers as retention
from domain.storage.retention import query_handlers as retention_queries
from domain.storage.retention.commands import (
    ReleaseLegalHoldCommand,
    SetLegalHoldCommand,
    SetRetentionPolicyCommand,
)
from domain.storage.retention.events import RetentionPolicyChangedEvent
from domain.storage.retention.queries import GetRetentionPolicyQuery
from domain.system import query_handlers as system_queries
from domain.system.events import SystemHealthChangedEvent
from domain.system.health import observe_delivery
from domain.system.queries import GetAuditLogQuery, GetSystemHealthQuery
from infra.reports.schedules import install as install_schedule_parsers
from infra.selfmon import count_points

__all__ = ["COMMAND_HANDLERS", "EVENT_HANDLERS", "QUERY_HANDLERS", "build_bus"]

Handler = Callable[..., Any]

COMMAND_HANDLERS: dict[type[Command], Handler] = {
    CreateMetricsCommand: metrics.create_metrics,
    CreateAlertCommand: alerting.create_alert,
    CreateAlertFromTemplateCommand: alerting.create_alert_from_template,
    UpdateAlertCommand: alerting.update_alert,
    DeleteAlertCommand: alerting.delete_alert,
    AcknowledgeAlertCommand: alerting.acknowledge_alert,
    ResolveAlertCommand: alerting.resolve_alert,
    CreateDashboardCommand: dashboards.create_dashboard,
    UpdateDashboardCommand: dashboards.update_dashboard,
    RestoreDashboardCommand: dashboards.restore_dashboard,
    DuplicateDashboardCommand: dashboards.duplicate_dashboard,
    DeleteDashboardCommand: dashboards.delete_dashboard,
    ImportDashboardCommand: dashboards.import_dashboard,
    ConfigureNotificationCommand: notifications.configure_notification,
    ConfigureNotificationPolicyCommand: notifications.configure_policy,
    CreateSilenceCommand: notifications.create_silence,
    ExpireSilenceCommand: notifications.expire_silence,
    SendTestNotificationCommand: notifications.send_test_notification,
    CreateAnalyticsJobCommand: analytics.create_analytics_job,
    CancelAnalyticsJobCommand: analytics.cancel_analytics_job,
    # compliance
    StartAccessReviewCommand: compliance.start_access_review,
    ApproveAccessCommand: compliance.approve_access,
    RevokeAccessCommand: compliance.revoke_access,
    RestoreAccessCommand: compliance.restore_access,
    RunComplianceCheckCommand: compliance.run_compliance_check,
    # anomaly detection and incidents
    ConfigureAnomalyDetectionCommand: anomaly.configure_anomaly_detection,
    AcknowledgeIncidentCommand: incidents.acknowledge_incident,
    ResolveIncidentCommand: incidents.resolve_incident,
    ConfigureIncidentsCommand: incidents.configure_incidents,
    # retention (domain/storage/retention)
    SetRetentionPolicyCommand: retention.set_retention_policy,
    SetLegalHoldCommand: retention.set_legal_hold,
    ReleaseLegalHoldCommand: retention.release_legal_hold,
    # cost analytics (domain/cost)
    ConfigurePricingCommand: cost.configure_pricing,
    # reports (domain/reports): the scheduler sends RunReportCommand too
    CreateReportCommand: reports.create_report,
    UpdateReportCommand: reports.update_report,
    DeleteReportCommand: reports.delete_report,
    RunReportCommand: run_report,
    ExpireReportArtefactsCommand: reports.expire_report_artefacts,
}

QUERY_HANDLERS: dict[type[Query], Handler] = {
    GetMetricsByIdQuery: metric_queries.get_metric,
    GetMetricsListQuery: metric_queries.list_metrics,
    GetMetricSeriesQuery: metric_queries.metric_series,
    GetMetricNamesQuery: metric_queries.metric_names,
    GetTagKeysQuery: metric_queries.tag_keys,
    GetMetricMetadataQuery: metric_queries.metric_metadata,
    GetTagValuesQuery: metric_queries.tag_values,
    GetSystemHealthQuery: system_queries.system_health,
    GetAuditLogQuery: system_queries.audit_log,
    GetAlertsByIdQuery: alert_queries.get_alert,
    GetAlertsListQuery: alert_queries.list_alerts,
    GetAlertHistoryQuery: alert_queries.alert_history,
    ListAlertTemplatesQuery: alert_queries.alert_templates,
    PreviewAlertQuery: alert_queries.preview_alert,
    GetDashboardQuery: dashboard_queries.get_dashboard,
    GetDashboardsListQuery: dashboard_queries.list_dashboards,
    GetDashboardHistoryQuery: dashboard_queries.dashboard_history,
    GetDashboardDataQuery: dashboard_queries.dashboard_data,
    ExportDashboardQuery: dashboard_queries.export_dashboard,
    GetNotificationQuery: notification_queries.get_notification,
    ListNotificationsQuery: notification_queries.list_notifications,
    GetNotificationPolicyQuery: notification_queries.get_policy,
    ListSilencesQuery: notification_queries.list_silences,
    ListDeliveriesQuery: notification_queries.list_deliveries,
    GetDeliveryQuery: notification_queries.get_delivery,
    GetAnalyticsQuery: analytics_queries.analytics,
    GetAnalyticsJobQuery: analytics_queries.analytics_job,
    ListAnalyticsJobsQuery: analytics_queries.analytics_jobs,
    GetAnalyticsJobResultQuery: analytics_queries.analytics_job_result,
    # compliance
    VerifyAuditLogQuery: compliance_queries.verify_audit_log,
    GetAccessReviewQuery: compliance_queries.access_review,
    ListAccessReviewsQuery: compliance_queries.access_reviews,
    ListRevocationsQuery: compliance_queries.revocations,
    GetComplianceReportQuery: compliance_queries.compliance_report,
    ListComplianceRunsQuery: compliance_queries.compliance_runs,
    # anomaly detection, alert noise and incidents
    ListAnomaliesQuery: anomaly_queries.anomalies,
    GetAnomalyBandQuery: anomaly_queries.anomaly_band,
    ListAnomalyDetectionsQuery: anomaly_queries.anomaly_detections,
    GetAlertNoiseQuery: alert_queries.alert_noise,
    ListIncidentsQuery: incident_queries.list_incidents,
    GetIncidentQuery: incident_queries.get_incident,
    GetIncidentSettingsQuery: incident_queries.incident_settings,
    GetRetentionPolicyQuery: retention_queries.retention_policy,
    # cost analytics
    GetPricingQuery: cost_queries.pricing,
    GetCostReportQuery: cost_queries.cost_report,
    # reports
    GetReportQuery: report_queries.get_report,
    ListReportsQuery: report_queries.list_reports,
    ListReportRunsQuery: report_queries.list_report_runs,
    GetReportRunQuery: report_queries.get_report_run,
}

# In order: an event goes on the event bus first, then to the in-process handlers.
EVENT_HANDLERS: dict[type[Event], list[Handler]] = {
    MetricCollectedEvent: [
        publish_event,
        count_points,
        alerting.evaluate_points,
        compliance.observe_clock_offsets,
    ],
    ThresholdExceededEvent: [publish_event],
    # Incidents first: the router asks them for the alert's incident (and duplicates).
    AlertTriggeredEvent: [
        publish_event,
        incidents.track_alert_event,
        notifications.route_alert_event,
    ],
    AlertResolvedEvent: [
        publish_event,
        incidents.track_alert_event,
        notifications.route_alert_event,
    ],
    AlertAcknowledgedEvent: [
        publish_event,
        incidents.track_alert_event,
        notifications.route_alert_event,
    ],
    DashboardCreatedEvent: [publish_event],
    DashboardUpdatedEvent: [publish_event],
    DashboardDeletedEvent: [publish_event],
    NotificationSentEvent: [publish_event, observe_delivery],
    NotificationChannelDisabledEvent: [publish_event],
    AnalyticsProgressEvent: [publish_event],
    AnalyticsCompletedEvent: [publish_event],
    # compliance and system health
    ComplianceCheckedEvent: [publish_event, notifications.route_compliance_event],
    AccessRevokedEvent: [publish_event, compliance.apply_revocation],
    SystemHealthChangedEvent: [publish_event],
    AnomalyDetectedEvent: [publish_event],
    IncidentUpdatedEvent: [publish_event],
    RetentionPolicyChangedEvent: [publish_event],
    ReportGeneratedEvent: [publish_event],
}


def build_bus(
    dependencies: Mapping[str, Any],
    *,
    audit: CommandAudit | None = None,
    query_audit: QueryAudit | None = None,
    gate: CommandGate | None = None,
    commands: Mapping[type[Command], Handler] = COMMAND_HANDLERS,
    queries: Mapping[type[Query], Handler] = QUERY_HANDLERS,
    events: Mapping[type[Event], list[Handler]] = EVENT_HANDLERS,
) -> MessageBus:
    """The message bus with every handler bound to `dependencies` (by parameter name).

    A handler's dependency that is missing raises at once. Handlers of features a caller
    does not wire (a unit test without notifications, say) are left out by passing
    narrower tables. `ask` is provided here: the bus's own `ask`, for handlers that read
    another feature through its queries.
    """
    install_schedule_parsers()  # domain.reports.schedule parses through these
    bus: MessageBus | None = None

    async def ask(query: Query) -> Any:
        assert bus is not None
        return await bus.ask(query)

    wired = {"ask": ask, **dependencies}
    bus = MessageBus(
        commands={kind: bind(handler, wired) for kind, handler in commands.items()},
        queries={kind: bind(handler, wired) for kind, handler in queries.items()},
        events={kind: [bind(h, wired) for h in handlers] for kind, handlers in events.items()},
        audit=audit,
        query_audit=query_audit,
        gate=gate,
    )
    return bus
