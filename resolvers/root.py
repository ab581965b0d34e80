"""The root types, composed from one resolver per operation, and the schema factory."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from graphql.error import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from resolvers import alert_noise as noise_ops
from resolvers import alerts as alert_ops
from resolvers import (
    alerts_live,
    analytics_live,
    anomalies_live,
    compliance_live,
    dashboards_live,
    incidents_live,
    metrics_live,
    notifications_live,
    reports_live,
    system,
)
from resolvers import analytics as analytics_ops
from resolvers import anomalies as anomaly_ops
from resolvers import compliance as compliance_ops
from resolvers import dashboards as dashboard_ops
from resolvers import incidents as incident_ops
from resolvers import metrics as metric_ops
from resolvers import notifications as notification_ops
from resolvers import pricing as pricing_ops
from resolvers import reports as report_ops
from resolvers import retention as retention_ops
from schema.budget import HeavyReads
from schema.errors import ErrorCodes
from schema.permissions import CanAdminister, CanEdit, CanRead, CanWriteMetrics, IsAuthenticated
from schema.prepared import DocumentCache, PreparedDocuments
from schema.scalars import SCALAR_MAP

__all__ = ["ApiLimits", "Mutation", "Query", "Subscription", "build_schema"]


@strawberry.type
class Query:
    metric = strawberry.field(resolver=metric_ops.metric, permission_classes=[IsAuthenticated])
    metrics = strawberry.field(resolver=metric_ops.metrics, permission_classes=[CanRead])
    metric_series = strawberry.field(
        resolver=metric_ops.metric_series, permission_classes=[CanRead]
    )
    metric_names = strawberry.field(resolver=metric_ops.metric_names, permission_classes=[CanRead])
    metric_metadata = strawberry.field(
        resolver=metric_ops.metric_metadata, permission_classes=[CanRead]
    )
    tag_keys = strawberry.field(resolver=metric_ops.tag_keys, permission_classes=[CanRead])
    tag_values = strawberry.field(resolver=metric_ops.tag_values, permission_classes=[CanRead])
    system_health = strawberry.field(
        resolver=system.system_health, permission_classes=[IsAuthenticated]
    )
    audit_log = strawberry.field(resolver=system.audit_log, permission_classes=[CanAdminister])
    alert = strawberry.field(resolver=alert_ops.alert, permission_classes=[CanRead])
    alerts = strawberry.field(resolver=alert_ops.alerts, permission_classes=[CanRead])
    alert_templates = strawberry.field(
        resolver=alert_ops.alert_templates, permission_classes=[IsAuthenticated]
    )
    preview_alert = strawberry.field(resolver=alert_ops.preview_alert, permission_classes=[CanRead])
    dashboard = strawberry.field(resolver=dashboard_ops.dashboard, permission_classes=[CanRead])
    dashboards = strawberry.field(resolver=dashboard_ops.dashboards, permission_classes=[CanRead])
    export_dashboard = strawberry.field(
        resolver=dashboard_ops.export_dashboard, permission_classes=[CanRead]
    )
    notification = strawberry.field(
        resolver=notification_ops.notification, permission_classes=[CanAdminister]
    )
    notifications = strawberry.field(
        resolver=notification_ops.notifications, permission_classes=[CanAdminister]
    )
    notification_policy = strawberry.field(
        resolver=notification_ops.notification_policy, permission_classes=[CanAdminister]
    )
    notification_deliveries = strawberry.field(
        resolver=notification_ops.notification_deliveries, permission_classes=[CanAdminister]
    )
    notification_delivery = strawberry.field(
        resolver=notification_ops.notification_delivery, permission_classes=[CanAdminister]
    )
    silences = strawberry.field(resolver=notification_ops.silences, permission_classes=[CanRead])
    analytics = strawberry.field(resolver=analytics_ops.analytics, permission_classes=[CanRead])
    analytics_job = strawberry.field(
        resolver=analytics_ops.analytics_job, permission_classes=[CanRead]
    )
    analytics_jobs = strawberry.field(
        resolver=analytics_ops.analytics_jobs, permission_classes=[CanRead]
    )
    # compliance
    verify_audit_log = strawberry.field(
        resolver=compliance_ops.verify_audit_log, permission_classes=[CanAdminister]
    )
    access_review = strawberry.field(
        resolver=compliance_ops.access_review, permission_classes=[CanAdminister]
    )
    access_reviews = strawberry.field(
        resolver=compliance_ops.access_reviews, permission_classes=[CanAdminister]
    )
    revocations = strawberry.field(
        resolver=compliance_ops.revocations, permission_classes=[CanAdminister]
    )
    compliance_report = strawberry.field(
        resolver=compliance_ops.compliance_report, permission_classes=[CanAdminister]
    )
    compliance_checks = strawberry.field(
        resolver=compliance_ops.compliance_checks, permission_classes=[CanAdminister]
    )
    # anomaly detection, alert noise and incidents (issue 15)
    anomalies = strawberry.field(resolver=anomaly_ops.anomalies, permission_classes=[CanRead])
    anomaly_band = strawberry.field(resolver=anomaly_ops.anomaly_band, permission_classes=[CanRead])
    anomaly_detections = strawberry.field(
        resolver=anomaly_ops.anomaly_detections, permission_classes=[CanRead]
    )
    alert_noise = strawberry.field(resolver=noise_ops.alert_noise, permission_classes=[CanRead])
    incidents = strawberry.field(resolver=incident_ops.incidents, permission_classes=[CanRead])
    incident = strawberry.field(resolver=incident_ops.incident, permission_classes=[CanRead])
    incident_settings = strawberry.field(
        resolver=incident_ops.incident_settings, permission_classes=[CanRead]
    )
    # retention (issue 13): admins read and set it (a legal hold's reason is theirs)
    retention_policy = strawberry.field(
        resolver=retention_ops.retention_policy, permission_classes=[CanAdminister]
    )
    # cost analytics (issue 17): readers see prices and costs, admins set the prices
    pricing = strawberry.field(resolver=pricing_ops.pricing, permission_classes=[CanRead])
    cost_report = strawberry.field(resolver=pricing_ops.cost_report, permission_classes=[CanRead])
    # reports (issue 17)
    report = strawberry.field(resolver=report_ops.report, permission_classes=[CanRead])
    reports = strawberry.field(resolver=report_ops.reports, permission_classes=[CanRead])
    report_runs = strawberry.field(resolver=report_ops.report_runs, permission_classes=[CanRead])
    report_run = strawberry.field(resolver=report_ops.report_run, permission_classes=[CanRead])


@strawberry.type
class Mutation:
    create_metric = strawberry.mutation(
        resolver=metric_ops.create_metric, permission_classes=[CanWriteMetrics]
    )
    create_metrics = strawberry.mutation(
        resolver=metric_ops.create_metrics, permission_classes=[CanWriteMetrics]
    )
    create_alert = strawberry.mutation(
        resolver=alert_ops.create_alert, permission_classes=[CanEdit]
    )
    create_alert_from_template = strawberry.mutation(
        resolver=alert_ops.create_alert_from_template, permission_classes=[CanEdit]
    )
    update_alert = strawberry.mutation(
        resolver=alert_ops.update_alert, permission_classes=[CanEdit]
    )
    delete_alert = strawberry.mutation(
        resolver=alert_ops.delete_alert, permission_classes=[CanEdit]
    )
    acknowledge_alert = strawberry.mutation(
        resolver=alert_ops.acknowledge_alert, permission_classes=[CanEdit]
    )
    resolve_alert = strawberry.mutation(
        resolver=alert_ops.resolve_alert, permission_classes=[CanEdit]
    )
    create_dashboard = strawberry.mutation(
        resolver=dashboard_ops.create_dashboard, permission_classes=[CanEdit]
    )
    update_dashboard = strawberry.mutation(
        resolver=dashboard_ops.update_dashboard, permission_classes=[CanEdit]
    )
    restore_dashboard = strawberry.mutation(
        resolver=dashboard_ops.restore_dashboard, permission_classes=[CanEdit]
    )
    duplicate_dashboard = strawberry.mutation(
        resolver=dashboard_ops.duplicate_dashboard, permission_classes=[CanEdit]
    )
    delete_dashboard = strawberry.mutation(
        resolver=dashboard_ops.delete_dashboard, permission_classes=[CanEdit]
    )
    import_dashboard = strawberry.mutation(
        resolver=dashboard_ops.import_dashboard, permission_classes=[CanEdit]
    )
    configure_notification = strawberry.mutation(
        resolver=notification_ops.configure_notification, permission_classes=[CanAdminister]
    )
    configure_notification_policy = strawberry.mutation(
        resolver=notification_ops.configure_notification_policy,
        permission_classes=[CanAdminister],
    )
    send_test_notification = strawberry.mutation(
        resolver=notification_ops.send_test_notification, permission_classes=[CanAdminister]
    )
    create_silence = strawberry.mutation(
        resolver=notification_ops.create_silence, permission_classes=[CanEdit]
    )
    expire_silence = strawberry.mutation(
        resolver=notification_ops.expire_silence, permission_classes=[CanEdit]
    )
    create_analytics_job = strawberry.mutation(
        resolver=analytics_ops.create_analytics_job, permission_classes=[CanEdit]
    )
    cancel_analytics_job = strawberry.mutation(
        resolver=analytics_ops.cancel_analytics_job, permission_classes=[CanEdit]
    )
    # compliance
    start_access_review = strawberry.mutation(
        resolver=compliance_ops.start_access_review, permission_classes=[CanAdminister]
    )
    approve_access = strawberry.mutation(
        resolver=compliance_ops.approve_access, permission_classes=[CanAdminister]
    )
    revoke_access = strawberry.mutation(
        resolver=compliance_ops.revoke_access, permission_classes=[CanAdminister]
    )
    restore_access = strawberry.mutation(
        resolver=compliance_ops.restore_access, permission_classes=[CanAdminister]
    )
    run_compliance_check = strawberry.mutation(
        resolver=compliance_ops.run_compliance_check, permission_classes=[CanAdminister]
    )
    # anomaly detection and incidents (issue 15)
    configure_anomaly_detection = strawberry.mutation(
        resolver=anomaly_ops.configure_anomaly_detection, permission_classes=[CanEdit]
    )
    acknowledge_incident = strawberry.mutation(
        resolver=incident_ops.acknowledge_incident, permission_classes=[CanEdit]
    )
    resolve_incident = strawberry.mutation(
        resolver=incident_ops.resolve_incident, permission_classes=[CanEdit]
    )
    configure_incidents = strawberry.mutation(
        resolver=incident_ops.configure_incidents, permission_classes=[CanEdit]
    )
    # retention (issue 13)
    set_retention_policy = strawberry.mutation(
        resolver=retention_ops.set_retention_policy, permission_classes=[CanAdminister]
    )
    set_legal_hold = strawberry.mutation(
        resolver=retention_ops.set_legal_hold, permission_classes=[CanAdminister]
    )
    release_legal_hold = strawberry.mutation(
        resolver=retention_ops.release_legal_hold, permission_classes=[CanAdminister]
    )
    # cost analytics (issue 17)
    configure_pricing = strawberry.mutation(
        resolver=pricing_ops.configure_pricing, permission_classes=[CanAdminister]
    )
    # reports (issue 17)
    create_report = strawberry.mutation(
        resolver=report_ops.create_report, permission_classes=[CanEdit]
    )
    update_report = strawberry.mutation(
        resolver=report_ops.update_report, permission_classes=[CanEdit]
    )
    delete_report = strawberry.mutation(
        resolver=report_ops.delete_report, permission_classes=[CanEdit]
    )
    run_report = strawberry.mutation(resolver=report_ops.run_report, permission_classes=[CanEdit])


@strawberry.type
class Subscription:
    metric_collected = strawberry.subscription(
        resolver=metrics_live.metric_collected, permission_classes=[CanRead]
    )
    alert_triggered = strawberry.subscription(
        resolver=alerts_live.alert_triggered, permission_classes=[CanRead]
    )
    alert_resolved = strawberry.subscription(
        resolver=alerts_live.alert_resolved, permission_classes=[CanRead]
    )
    threshold_exceeded = strawberry.subscription(
        resolver=alerts_live.threshold_exceeded, permission_classes=[CanRead]
    )
    alert_acknowledged = strawberry.subscription(
        resolver=alerts_live.alert_acknowledged, permission_classes=[CanRead]
    )
    dashboard_updated = strawberry.subscription(
        resolver=dashboards_live.dashboard_updated, permission_classes=[CanRead]
    )
    dashboard_created = strawberry.subscription(
        resolver=dashboards_live.dashboard_created, permission_classes=[CanRead]
    )
    notification_sent = strawberry.subscription(
        resolver=notifications_live.notification_sent, permission_classes=[CanAdminister]
    )
    notification_channel_disabled = strawberry.subscription(
        resolver=notifications_live.notification_channel_disabled,
        permission_classes=[CanAdminister],
    )
    analytics_progress = strawberry.subscription(
        resolver=analytics_live.analytics_progress, permission_classes=[CanRead]
    )
    analytics_completed = strawberry.subscription(
        resolver=analytics_live.analytics_completed, permission_classes=[CanRead]
    )
    # compliance and health
    compliance_checked = strawberry.subscription(
        resolver=compliance_live.compliance_checked, permission_classes=[CanAdminister]
    )
    system_health_changed = strawberry.subscription(
        resolver=compliance_live.system_health_changed, permission_classes=[IsAuthenticated]
    )
    # anomaly detection and incidents (issue 15)
    anomaly_detected = strawberry.subscription(
        resolver=anomalies_live.anomaly_detected, permission_classes=[CanRead]
    )
    incident_updated = strawberry.subscription(
        resolver=incidents_live.incident_updated, permission_classes=[CanRead]
    )
    # reports (issue 17)
    report_generated = strawberry.subscription(
        resolver=reports_live.report_generated, permission_classes=[CanRead]
    )


@dataclass(frozen=True, slots=True)
class ApiLimits:
    """What the schema refuses before executing; the defaults live in infra/config/."""

    max_depth: int
    max_aliases: int
    max_tokens: int
    introspection: bool
    suggestions: bool = True  # "Did you mean ...?" in validation errors: development only
    max_cost: int = 25_000  # schema/cost.py
    max_heavy_per_caller: int = 2  # reads of stored points running at once per caller


class VigilSchema(strawberry.Schema):
    heavy_reads: HeavyReads  # who runs reads of stored points now (schema/budget.py)
    documents: DocumentCache  # parsed and validated documents (schema/prepared.py)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """ErrorCodes logs what is internal; user errors are answers, not log lines."""


def build_schema(
    limits: ApiLimits, *, on_error: Callable[[str], None] | None = None
) -> strawberry.Schema:
    # Factories, not instances: Strawberry builds fresh extensions per operation. The rule
    # classes are built once here: QueryDepthLimiter and MaxAliasesLimiter each define a new
    # class per instance, and a validation cache keyed on the rules would never hit
    # (measured 4-9 ms of validation per request; docs/performance.md). One extension
    # parses, validates and costs (schema/prepared.py): each extension costs every request.
    documents = DocumentCache(
        max_tokens=limits.max_tokens,
        rules=[
            depth_rule(limits.max_depth, None),
            alias_rule(limits.max_aliases),
            *([] if limits.introspection else [NoSchemaIntrospectionCustomRule]),
        ],
    )
    heavy = HeavyReads(max_per_caller=limits.max_heavy_per_caller)
    extensions: list[Callable[[], SchemaExtension]] = [
        lambda: PreparedDocuments(documents=documents, max_cost=limits.max_cost, heavy=heavy),
        lambda: ErrorCodes(on_error=on_error, suggestions=limits.suggestions),
    ]
    schema: Any = VigilSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
    schema.heavy_reads = heavy
    schema.documents = documents
    return schema  # type: ignore[no-any-return]
