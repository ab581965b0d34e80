"""The stateful parts beside the bus (alert evaluation, notifications, analytics jobs,
anomaly detectors, incidents, ...): built from the stores, started once the bus exists."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.alerting.runtime import AlertEngine
from domain.alerting.runtime.forecasts import ForecastRunner
from domain.analytics.ports import Foreground
from domain.anomaly.ports import AnomalyRuntime
from domain.anomaly.runtime import DetectorBank
from domain.cost.runtime import CostWriter, WriterSettings
from domain.incidents.runtime import IncidentTracker
from domain.messagebus import MessageBus
from domain.metrics.commands import CreateMetricsCommand
from domain.metrics.series_limits import SeriesLimiter
from domain.ports import Clock
from domain.storage.ports import RollupStore
from domain.storage.retention.model import DAY_US, RetentionDefaults
from domain.storage.retention.runtime import (
    PolicyBook,
    RetentionReport,
    RetentionRunner,
    RunnerSettings,
)
from domain.storage.rollup_runner import RollupRunner, RollupSettings
from domain.storage.tiers import RAW
from domain.system.audit import AuditTrail
from domain.usage.meter import UsageMeter
from domain.usage.runner import UsageRunner, UsageSettings
from infra.alerting import AlertCluster, ShardLeases
from infra.alerting.forecaster import ProcessForecaster
from infra.analytics.wiring import Analytics
from infra.bootstrap.adapters import (
    StoreDatabase,
)
from infra.bus import EventBus, EventStream
from infra.collectors.endpoints import start_statsd
from infra.compliance import Compliance
from infra.config import Settings
from infra.notifications.templates import TemplateBudget
from infra.notifications.wiring import Notifications
from infra.notifications.worker import RetryPolicy
from infra.selfmon import SelfMonitor, series_points
from infra.ws import SubscriptionGroups

__all__ = ["Runtimes", "build_runtimes", "start_runtimes"]


@dataclass(slots=True)
class Runtimes:
    """The stateful parts that run beside the bus: alert evaluation, notifications and
    analytics jobs."""

    engine: AlertEngine  # this process's evaluator
    alerting: AlertEngine | AlertCluster  # what commands move (the AlertRuntime port)
    notifications: Notifications
    analytics: Analytics
    # Anomaly detection and incidents (issue 15): the detectors ride the engine.
    detectors: DetectorBank
    anomalies: AnomalyRuntime  # what configureAnomalyDetection moves
    forecaster: ProcessForecaster
    incidents: IncidentTracker
    retention: RetentionRunner  # its `book`: the policies ingest checks points against
    retention_report: RetentionReport  # the compliance checks' evidence of retention
    # Rollup tiers (decision 0028); None on a store without them or with VIGIL_ROLLUP_SECONDS=0.
    rollups: RollupRunner | None = None
    # The writer of vigil.cost.* (domain/cost); None with VIGIL_COST_STEP_SECONDS=0.
    cost: CostWriter | None = None
    # Usage analytics (domain/usage): the meter every handler counts into, and its runner.
    usage: UsageRunner | None = None


def build_runtimes(
    settings: Settings,
    stores: StoreDatabase,
    events: EventBus,
    clock: Clock,
    notifications_clock: Clock,
) -> Runtimes:
    """Built, not started: they need the bus to publish into."""
    detectors = DetectorBank(
        stores.anomalies,
        stores.metrics,
        clock,
        tz=settings.anomaly_zone,
        retention_us=settings.retention_days * 86_400_000_000,
    )
    forecaster = ProcessForecaster()
    engine = AlertEngine(
        stores.alerts,
        stores.metrics,
        clock,
        tick_seconds=settings.alert_tick_seconds,
        scorer=detectors,
        forecasts=ForecastRunner(stores.metrics, forecaster),
    )
    alerting: AlertEngine | AlertCluster = engine
    anomalies: AnomalyRuntime = detectors
    if events.backend != "memory":
        # On a shared (Redis) bus each instance evaluates the alerts of the shards it holds a
        # lease on; on a memory bus one process evaluates every alert.
        ttl_us = int(settings.alert_lease_seconds * 1_000_000)
        leases = ShardLeases(stores.leases, settings.instance_name, ttl_us=ttl_us)
        alerting = AlertCluster(engine, stores.alerts, leases, events, clock, detectors=detectors)
        anomalies = alerting
    notifications = Notifications(
        stores.notifications,
        notifications_clock,
        allow_loopback=settings.notify_allow_loopback,
        tick_seconds=settings.notify_tick_seconds,
        timeout_seconds=settings.notify_timeout_seconds,
        retry=RetryPolicy(
            max_attempts=settings.notify_max_attempts,
            base_seconds=settings.notify_retry_base_seconds,
            max_seconds=settings.notify_retry_max_seconds,
        ),
        template_budget=TemplateBudget(
            timeout_seconds=settings.notify_template_timeout_seconds,
            max_iterations=settings.notify_template_max_iterations,
            max_output=settings.notify_template_max_output,
            max_nesting=settings.notify_template_max_nesting,
            memory_mb=settings.notify_template_memory_mb,
        ),
        template_workers=settings.notify_template_workers,
    )
    analytics = Analytics(settings, stores.analytics, stores.leases, clock)
    incidents = IncidentTracker(
        stores.incidents, clock, EventStream(events, origin=settings.instance_name)
    )
    notifications.dispatcher.annotate = incidents.labels
    retention = build_retention(settings, stores, clock)
    rollup_store: RollupStore | None = getattr(stores, "rollups", None)
    rollups = None
    if rollup_store is not None and settings.rollup_seconds > 0:
        rollups = RollupRunner(
            rollup_store,
            stores.leases,
            clock,
            owner=settings.instance_name,
            settings=RollupSettings(
                lag_us=int(settings.rollup_lag_seconds * 1_000_000),
                every_seconds=settings.rollup_seconds,
            ),
        )
    retention.rollups = rollup_store  # the tiers' expiry (None: raw only)
    stores.metrics.raw_kept = retention.book  # percentiles past raw retention read sketches
    return Runtimes(
        engine,
        alerting,
        notifications,
        analytics,
        detectors,
        anomalies,
        forecaster,
        incidents,
        retention,
        RetentionReport(
            retention.book,
            stores.audit,
            clock,
            every_us=retention.settings.every_us,
            runs=settings.retention_run_seconds > 0,
        ),
        rollups,
        build_cost_writer(settings, stores, clock),
        build_usage(settings, stores, clock, engine),
    )


def build_cost_writer(settings: Settings, stores: StoreDatabase, clock: Clock) -> CostWriter | None:
    if settings.cost_step_seconds <= 0:
        return None
    step_us = round(settings.cost_step_seconds * 1_000_000)
    return CostWriter(
        stores.pricing,
        stores.leases,
        clock,
        WriterSettings(
            owner=settings.instance_name,
            step_us=step_us,
            lag_us=round(settings.cost_lag_seconds * 1_000_000),
            tick_seconds=min(30.0, max(step_us / 1e6 / 4, 0.05)),
        ),
    )


def build_usage(
    settings: Settings, stores: StoreDatabase, clock: Clock, engine: AlertEngine
) -> UsageRunner:
    """The usage meter and its runner (domain/usage); with VIGIL_USAGE_SECONDS=0 the meter
    counts nothing and the runner is not started."""
    return UsageRunner(
        UsageMeter(clock, enabled=settings.usage_seconds > 0),
        stores.usage,
        stores.leases,
        clock,
        settings=UsageSettings(
            owner=settings.instance_name,
            every_seconds=settings.usage_seconds or 60.0,
            keep_us=settings.usage_keep_days * DAY_US,
            rule_tick_seconds=settings.alert_tick_seconds,
        ),
        rules=engine.rule_metrics,
    )


def build_retention(settings: Settings, stores: StoreDatabase, clock: Clock) -> RetentionRunner:
    """The policies and their runner. The raw ceiling is VIGIL_RETENTION_DAYS, or on MongoDB
    the retention stored for every instance (`vigil retention DAYS`). The rollup tiers'
    expiry is wired by the rollups' store (`runner.rollups`)."""
    ceiling_us = getattr(stores, "retention_seconds", settings.retention_days * 86_400) * 1_000_000
    defaults = RetentionDefaults(
        keep_us={RAW.name: settings.retention_raw_days * DAY_US}, raw_ceiling_us=ceiling_us
    )
    book = PolicyBook(stores.retention, defaults, clock)
    every = settings.retention_run_seconds or 3_600.0
    return RetentionRunner(
        book,
        stores.retention,
        AuditTrail(stores.audit, clock),
        stores.leases,
        clock,
        settings=RunnerSettings(
            owner=settings.instance_name,
            every_us=round(every * 1_000_000),
            key_ttl_us=round(settings.idempotency_key_seconds * 1_000_000),
            tick_seconds=min(30.0, every),
        ),
    )


async def start_runtimes(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    runtimes: Runtimes,
    bus: MessageBus,
    monitor: SelfMonitor,
    groups: SubscriptionGroups,
    compliance: Compliance,
    series_limiter: SeriesLimiter,
    store_points: Callable[[], list[dict[str, Any]]] = list,
    foreground: Foreground | None = None,
) -> None:
    """Alert evaluation, notification delivery and self-monitoring, each stopped by `stack`
    before the store closes. `store_points`: the store's own counters (reopens, damage);
    `foreground`: the requests in flight, which analytics jobs' reads give way to."""
    await runtimes.alerting.start(publish=bus.publish)
    stack.push_async_callback(runtimes.alerting.close)
    await runtimes.notifications.start(bus.publish)
    stack.push_async_callback(runtimes.notifications.close)
    if settings.statsd_addr:  # off by default (docs/collectors.md)
        await start_statsd(
            stack,
            address=settings.statsd_addr,
            project=settings.statsd_project,
            interval=settings.statsd_flush_seconds,
            bus=bus,
        )
    analytics = runtimes.analytics
    await analytics.workers.start(foreground)
    stack.push_async_callback(analytics.workers.close)
    await analytics.runner.start(publish=bus.publish, ask=bus.ask, foreground=foreground)
    stack.push_async_callback(analytics.runner.close)
    stack.push_async_callback(runtimes.incidents.close)
    if settings.retention_run_seconds > 0:
        await runtimes.retention.start()
        stack.push_async_callback(runtimes.retention.close)
    if runtimes.rollups is not None:
        await runtimes.rollups.start()
        stack.push_async_callback(runtimes.rollups.close)
    if runtimes.cost is not None:
        await runtimes.cost.start(handle=bus.handle, ask=bus.ask)
        stack.push_async_callback(runtimes.cost.close)
    usage = runtimes.usage
    if usage is not None:

        async def write_usage(project: str, points: list[dict[str, Any]]) -> None:
            await bus.handle(CreateMetricsCommand(project, points))

        usage.write = write_usage
        if settings.usage_seconds > 0:
            await usage.start()
        stack.push_async_callback(usage.close)  # stores the minute under way
    if settings.self_monitor_seconds > 0:
        engine = runtimes.engine
        task = asyncio.create_task(
            monitor.run(
                bus,
                interval=settings.self_monitor_seconds,
                subscriptions=groups.members,
                alerts=lambda: engine.rules,
                extra=lambda: [
                    *compliance.metric_points(),
                    *series_points(series_limiter, monitor.instance),
                    *store_points(),
                ],
            )
        )
        stack.callback(task.cancel)
