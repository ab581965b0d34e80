"""A running Vigil: adapters opened, the message bus built, the runtimes started.

`Vigil.start(settings)` runs the three steps in order (`_open_adapters`, `_build_bus`,
`_start_runtimes`) and returns an object whose `close()` releases everything in reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import strawberry

from domain.access import Principal
from domain.alerting.runtime import AlertEngine
from domain.alerting.runtime.forecasts import ForecastRunner
from domain.anomaly.history import rule_input
from domain.anomaly.ports import AnomalyRuntime
from domain.anomaly.runtime import DetectorBank
from domain.errors import Unauthenticated, VigilError
from domain.incidents.runtime import IncidentTracker
from domain.messagebus import MessageBus
from domain.metrics.ingest import IngestLimits, SeriesCache
from domain.ports import Clock
from domain.system.audit import AuditTrail
from infra.alerting import AlertCluster, ShardLeases
from infra.alerting.forecaster import ProcessForecaster
from infra.auth import TokenVerifier, connection_init_token
from infra.bootstrap.adapters import (
    StoreDatabase,
    StoreProbe,
    make_verifier,
    open_store,
    vigil_version,
)
from infra.bootstrap.routing import build_bus
from infra.bus import EventBus, EventStream
from infra.clock import SystemClock
from infra.config import Settings
from infra.dashboards import install_builtin_dashboards
from infra.notifications.wiring import Notifications
from infra.notifications.worker import RetryPolicy
from infra.selfmon import SelfMonitor
from infra.ws import SubscriptionGroups, WebSocketLimits
from resolvers.root import ApiLimits, build_schema
from schema.context import VigilContext

__all__ = ["Runtimes", "Vigil"]


@dataclass(slots=True)
class Runtimes:
    """The stateful parts that run beside the bus: alert evaluation and notifications."""

    engine: AlertEngine  # this process's evaluator
    alerting: AlertEngine | AlertCluster  # what commands move (the AlertRuntime port)
    notifications: Notifications
    # Anomaly detection and incidents (issue 15): the detectors ride the engine.
    detectors: DetectorBank
    anomalies: AnomalyRuntime  # what configureAnomalyDetection moves
    forecaster: ProcessForecaster
    incidents: IncidentTracker


@dataclass(slots=True)
class Vigil:
    """A running Vigil: its settings, stores, message bus, runtimes and live endpoints."""

    settings: Settings
    stores: StoreDatabase
    events: EventBus
    verifier: TokenVerifier
    clock: Clock
    audit: AuditTrail
    bus: MessageBus
    runtimes: Runtimes
    schema: strawberry.Schema
    groups: SubscriptionGroups
    monitor: SelfMonitor
    ws_limits: WebSocketLimits
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    @classmethod
    async def start(
        cls,
        settings: Settings,
        *,
        monitor: SelfMonitor | None = None,
        database: StoreDatabase | None = None,
        notifications_clock: Clock | None = None,
    ) -> Vigil:
        """`monitor` lets the HTTP edge, built before start-up, report into the same one.
        `database`: a store opened (and closed) by the caller, shared by several instances
        in one process; default: the store of `settings.store_url`. `notifications_clock`:
        the clock of the notification router and worker (tests move it); default: the
        system clock."""
        stack = contextlib.AsyncExitStack()
        await stack.__aenter__()
        try:
            clock = SystemClock()
            monitor = monitor or SelfMonitor(instance=f"{settings.host}:{settings.port}")
            stores, events, verifier = await _open_adapters(stack, settings, database)
            runtimes = _runtimes(settings, stores, events, clock, notifications_clock or clock)
            stack.push_async_callback(runtimes.forecaster.close)
            audit = AuditTrail(stores.audit, clock)
            bus = _build_bus(settings, stores, events, runtimes, monitor, clock, audit)
            await install_builtin_dashboards(stores.dashboards, clock)
            groups = SubscriptionGroups()
            stack.push_async_callback(groups.close)
            await _start_runtimes(stack, settings, runtimes, bus, monitor, groups)
            return cls(
                settings=settings,
                stores=stores,
                events=events,
                verifier=verifier,
                clock=clock,
                audit=audit,
                bus=bus,
                runtimes=runtimes,
                schema=build_schema(
                    ApiLimits(
                        max_depth=settings.max_query_depth,
                        max_aliases=settings.max_aliases,
                        max_tokens=settings.max_tokens,
                        introspection=not settings.production,
                    ),
                    on_error=monitor.observe_error,
                ),
                groups=groups,
                monitor=monitor,
                ws_limits=WebSocketLimits(
                    max_subscriptions=settings.ws_max_subscriptions,
                    max_message_bytes=settings.ws_max_message_bytes,
                    queue_messages=settings.ws_queue_messages,
                    init_timeout_seconds=settings.ws_init_timeout_seconds,
                ),
                _stack=stack,
            )
        except BaseException:
            await stack.aclose()
            raise

    async def close(self) -> None:
        await self._stack.aclose()

    def context(
        self, principal: Principal | None, request_id: str, auth_error: VigilError | None = None
    ) -> VigilContext:
        return VigilContext(
            bus=self.bus,
            subscriber=EventStream(self.events),
            audit=self.audit,
            clock=self.clock,
            principal=principal,
            auth_error=auth_error,
            request_id=request_id,
        )

    async def authenticate(self, token: str | None, *, request_id: str = "") -> Principal:
        """Verify a token; a refusal is audited and raised as Unauthenticated."""
        if token is None:
            raise Unauthenticated("a bearer token is required")
        try:
            return await self.verifier.verify(token)
        except Unauthenticated as exc:
            await self.audit.record(
                actor="anonymous",
                action="authenticate",
                project="",
                outcome=exc.code,
                request_id=request_id,
                detail={"reason": exc.message},
            )
            raise

    async def authenticate_socket(self, payload: dict[str, Any]) -> Principal:
        return await self.authenticate(connection_init_token(payload))


# -- the three steps of start -----------------------------------------------------------------


async def _open_adapters(
    stack: contextlib.AsyncExitStack, settings: Settings, database: StoreDatabase | None
) -> tuple[StoreDatabase, EventBus, TokenVerifier]:
    """The store, the event bus and the token verifier, each closed by `stack`."""
    if database is None:
        database = await stack.enter_async_context(
            open_store(settings.store_url, retention_seconds=settings.retention_days * 86_400)
        )
    events = await stack.enter_async_context(
        EventBus(settings.bus_url, queue_size=settings.bus_queue_size)
    )
    verifier = make_verifier(settings)
    if hasattr(verifier, "aclose"):
        stack.push_async_callback(verifier.aclose)
    return database, events, verifier


def _runtimes(
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
    )
    incidents = IncidentTracker(
        stores.incidents, clock, EventStream(events, origin=settings.instance_name)
    )
    notifications.dispatcher.annotate = incidents.labels
    return Runtimes(engine, alerting, notifications, detectors, anomalies, forecaster, incidents)


def _build_bus(
    settings: Settings,
    stores: StoreDatabase,
    events: EventBus,
    runtimes: Runtimes,
    monitor: SelfMonitor,
    clock: Clock,
    audit: AuditTrail,
) -> MessageBus:
    """Every handler's dependencies, by the name handlers give them (infra/bootstrap/routing)."""
    notifications = runtimes.notifications
    retention = settings.retention_days * 86_400
    dependencies: dict[str, Any] = {
        "clock": clock,
        "publisher": EventStream(events, origin=settings.instance_name),
        "monitor": monitor,
        # metrics
        "metrics": stores.metrics,
        "limits": IngestLimits(max_batch=settings.max_batch, retention_seconds=retention),
        "retention_seconds": retention,
        "series_cache": SeriesCache(),
        # system
        "audit_store": stores.audit,
        "health_checks": (StoreProbe("store", stores.metrics), StoreProbe("event_bus", events)),
        "version": vigil_version(),
        "started_us": clock.now_us(),
        # alerting
        "alerts": stores.alerts,
        "alert_runtime": runtimes.alerting,
        "alert_engine": runtimes.engine,
        # dashboards
        "dashboards": stores.dashboards,
        # notifications
        "notification_store": notifications.store,
        "notification_clock": notifications.clock,
        "renderer": notifications.renderer,
        "guard": notifications.guard,
        "dispatcher": notifications.dispatcher,
        "outbox": notifications.worker,
        # anomaly detection, forecasts and incidents
        "anomalies": stores.anomalies,
        "anomaly_runtime": runtimes.anomalies,
        "forecaster": runtimes.forecaster,
        "history_scorer": rule_input,
        "incidents": stores.incidents,
        "incident_tracker": runtimes.incidents,
    }
    return build_bus(dependencies, audit=audit)


async def _start_runtimes(
    stack: contextlib.AsyncExitStack,
    settings: Settings,
    runtimes: Runtimes,
    bus: MessageBus,
    monitor: SelfMonitor,
    groups: SubscriptionGroups,
) -> None:
    """Alert evaluation, notification delivery and self-monitoring, each stopped by `stack`
    before the store closes."""
    await runtimes.alerting.start(publish=bus.publish)
    stack.push_async_callback(runtimes.alerting.close)
    await runtimes.notifications.start(bus.publish)
    stack.push_async_callback(runtimes.notifications.close)
    stack.push_async_callback(runtimes.incidents.close)
    if settings.self_monitor_seconds > 0:
        engine = runtimes.engine
        task = asyncio.create_task(
            monitor.run(
                bus,
                interval=settings.self_monitor_seconds,
                subscriptions=groups.members,
                alerts=lambda: engine.rules,
            )
        )
        stack.callback(task.cancel)
