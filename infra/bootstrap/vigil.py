"""A running Vigil: adapters opened, the message bus built, the runtimes started.

`Vigil.start(settings)` runs the steps in order (`_open_adapters`, `build_runtimes` in
runtimes.py, `_build_bus`, `start_runtimes`) and returns an object whose `close()` releases
everything in reverse.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import strawberry

from domain.access import Principal
from domain.anomaly.history import rule_input
from domain.dashboards.overlays import OverlayCache
from domain.errors import Unauthenticated, VigilError
from domain.messagebus import Caller, MessageBus
from domain.metrics.ingest import IngestLimits, SeriesCache
from domain.metrics.series_limits import MINUTE_US, SeriesLimiter, SeriesLimits
from domain.ports import Clock
from domain.system.audit import AuditTrail
from infra.admission import Admission
from infra.admission.offload import ThreadOffload
from infra.auth import TokenVerifier, connection_init_token
from infra.bootstrap.adapters import (
    StoreDatabase,
    StoreProbe,
    bus_key,
    make_verifier,
    open_store,
    vigil_version,
)
from infra.bootstrap.routing import build_bus
from infra.bootstrap.runtimes import Runtimes, build_runtimes, start_runtimes
from infra.bus import EventBus, EventStream, LiveStreams
from infra.clock import SystemClock
from infra.compliance import Compliance
from infra.config import Settings
from infra.dashboards import install_builtin_dashboards
from infra.query_timeout import QueryTimeout
from infra.reports.scheduling import ReportSchedules
from infra.reports.wiring import ArtefactSweeper, report_dependencies, report_links
from infra.selfmon import SelfMonitor
from infra.usage import usage_dependencies
from infra.ws import SubscriptionGroups, WebSocketLimits
from resolvers.root import ApiLimits, build_schema
from schema.context import VigilContext

__all__ = ["Vigil"]


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
    compliance: Compliance
    query_timeout: QueryTimeout
    admission: Admission
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)
    live: LiveStreams = field(default_factory=LiveStreams)  # clients' live event streams

    @classmethod
    async def start(
        cls,
        settings: Settings,
        *,
        monitor: SelfMonitor | None = None,
        database: StoreDatabase | None = None,
        notifications_clock: Clock | None = None,
        admission: Admission | None = None,
    ) -> Vigil:
        """`monitor` lets the HTTP edge, built before start-up, report into the same one.
        `database`: a store opened (and closed) by the caller, shared by several instances
        in one process; default: the store of `settings.store_url`. `notifications_clock`:
        the clock of the notification router and worker and of report schedules (tests
        move it); default: the system clock. `admission`: rate limits and in-flight
        bounds shared with the HTTP edge, built before start-up; default: one of its own."""
        admission = admission or Admission.of(settings)
        stack = contextlib.AsyncExitStack()
        await stack.__aenter__()
        try:
            clock = SystemClock()
            monitor = monitor or SelfMonitor(instance=f"{settings.host}:{settings.port}")
            stores, events, verifier = await _open_adapters(stack, settings, database)
            monitor.bus_rejected = lambda: events.rejected
            runtimes = build_runtimes(settings, stores, events, clock, notifications_clock or clock)
            stack.push_async_callback(runtimes.forecaster.close)
            audit = AuditTrail(stores.audit, clock)
            compliance = Compliance(settings, stores, clock, audit, runtimes.retention_report)
            limiter = await _series_limiter(settings, stores, clock)
            offload = ThreadOffload()
            stack.callback(offload.close)
            bus = _build_bus(
                settings,
                stores,
                events,
                runtimes,
                monitor,
                clock,
                audit,
                compliance,
                limiter,
                admission,
                offload,
            )
            await install_builtin_dashboards(stores.dashboards, clock)
            sweeper = ArtefactSweeper(bus, settings.report_sweep_seconds)
            sweeper.start()
            stack.push_async_callback(sweeper.close)
            groups = SubscriptionGroups()
            stack.push_async_callback(groups.close)
            await start_runtimes(
                stack,
                settings,
                runtimes,
                bus,
                monitor,
                groups,
                compliance,
                limiter,
                store_points=getattr(stores, "metric_points", list),
                foreground=admission.inflight,
            )
            await compliance.start(bus, events, stores.leases)
            stack.push_async_callback(compliance.close)  # before the store closes: it flushes
            schedules = ReportSchedules(
                settings,
                stores,
                bus,
                runtimes.notifications,
                report_links(settings),
                notifications_clock or clock,  # tests move it to reach a slot
            )
            schedules.start()
            stack.push_async_callback(schedules.close)
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
                        suggestions=not settings.production,
                        max_cost=settings.query_max_cost,
                        max_heavy_per_caller=settings.query_max_heavy_per_caller,
                    ),
                    on_error=monitor.observe_error,
                ),
                groups=groups,
                monitor=monitor,
                ws_limits=WebSocketLimits(
                    max_subscriptions=settings.ws_max_subscriptions,
                    queue_messages=settings.ws_queue_messages,
                    init_timeout_seconds=settings.ws_init_timeout_seconds,
                    send_timeout_seconds=settings.ws_send_timeout_seconds,
                ),
                compliance=compliance,
                query_timeout=QueryTimeout(
                    settings.query_timeout_seconds, observe=monitor.observe_error
                ),
                admission=admission,
                _stack=stack,
            )
        except BaseException:
            await stack.aclose()
            raise

    async def close(self) -> None:
        await self._stack.aclose()

    def context(
        self,
        principal: Principal | None,
        request_id: str,
        auth_error: VigilError | None = None,
        *,
        client: str = "",
    ) -> VigilContext:
        bus = self.bus
        if principal is not None:  # its commands audited with its role and address
            roles = {p: r.value for p, r in principal.roles.items()}
            caller = Caller(principal.subject, roles, client, request_id, principal.token_id or "")
            bus = bus.for_caller(caller)
        return VigilContext(
            bus=bus,
            subscriber=EventStream(self.events, live=self.live),
            audit=self.audit,
            clock=self.clock,
            principal=principal,
            auth_error=auth_error,
            request_id=request_id,
            client=client,
            security=self.compliance.security,
            access=self.compliance.access,
            reads=self.compliance.reads,
        )

    async def authenticate(
        self, token: str | None, *, request_id: str = "", client: str = ""
    ) -> Principal:
        """Verify a token and take away what was revoked; a refusal goes to the security
        log (rate-limited) and is raised as Unauthenticated."""
        if token is None:
            raise Unauthenticated("a bearer token is required")
        security = self.compliance.security
        try:
            principal = await self.verifier.verify(token)
        except Unauthenticated as exc:
            await security.refused(
                metric="refused_tokens",
                actor="anonymous",
                action="authenticate",
                outcome=exc.code,
                reason=str(exc.details.get("reason") or exc.message),
                client=client,
                request_id=request_id,
            )
            raise
        revoked = self.compliance.revocations.revoked_in(principal)
        if not revoked:
            return principal
        for project in sorted(revoked):
            await security.refused(
                metric="revoked_token_use",
                actor=principal.subject,
                action="authenticate",
                outcome=Unauthenticated.code,
                asked=project,
                reason="revoked",
                client=client,
                request_id=request_id,
                counted_in=project,  # the token did hold a role there
            )
        principal = principal.without(revoked)
        if not principal.roles:
            raise Unauthenticated("token has been revoked", reason="revoked")
        return principal

    async def authenticate_socket(self, payload: dict[str, Any], *, client: str = "") -> Principal:
        return await self.authenticate(connection_init_token(payload), client=client)


# -- the three steps of start -----------------------------------------------------------------


async def _open_adapters(
    stack: contextlib.AsyncExitStack, settings: Settings, database: StoreDatabase | None
) -> tuple[StoreDatabase, EventBus, TokenVerifier]:
    """The store, the event bus and the token verifier, each closed by `stack`."""
    if database is None:
        database = await stack.enter_async_context(
            open_store(
                settings.store_url,
                retention_seconds=settings.retention_days * 86_400,
                checkpoint_bytes=settings.store_checkpoint_bytes,
                memory_limit_mb=settings.store_memory_limit_mb or None,
                compaction_seconds=settings.store_compaction_seconds,
                compaction_partition_seconds=settings.store_compaction_partition_seconds,
                block_bytes=settings.store_block_bytes,
            )
        )
    events = await stack.enter_async_context(
        EventBus(settings.bus_url, queue_size=settings.bus_queue_size, secret=bus_key(settings))
    )
    verifier = make_verifier(settings)
    if hasattr(verifier, "aclose"):
        stack.push_async_callback(verifier.aclose)
    return database, events, verifier


async def _series_limiter(settings: Settings, stores: StoreDatabase, clock: Clock) -> SeriesLimiter:
    """The per-project series limits, their counts read from the store: a restart does not
    hand out the limits again."""
    limits = SeriesLimits(
        max_active=settings.max_active_series,
        max_new_per_minute=settings.max_new_series_per_minute,
        window_seconds=settings.active_series_window_seconds,
    )
    limiter = SeriesLimiter(limits, clock)
    now = clock.now_us()
    limiter.seed(await stores.metrics.series_activity(now - limits.window_us, now - MINUTE_US))
    return limiter


def _build_bus(
    settings: Settings,
    stores: StoreDatabase,
    events: EventBus,
    runtimes: Runtimes,
    monitor: SelfMonitor,
    clock: Clock,
    audit: AuditTrail,
    compliance: Compliance,
    limiter: SeriesLimiter,
    admission: Admission,
    offload: ThreadOffload,
) -> MessageBus:
    """Every handler's dependencies, by the name handlers give them (infra/bootstrap/routing)."""
    notifications = runtimes.notifications
    retention = settings.retention_days * 86_400
    # MongoDB keeps one retention for every instance, stored in the database (mongo/retention.py).
    retention = getattr(stores, "retention_seconds", retention)
    dependencies: dict[str, Any] = {
        "clock": clock,
        "publisher": EventStream(events, origin=settings.instance_name),
        "monitor": monitor,
        # metrics
        "metrics": stores.metrics,
        "limits": IngestLimits(
            max_batch=settings.max_batch,
            retention_seconds=retention,
            max_columnar_points=settings.max_columnar_points,
        ),
        "retention_seconds": retention,
        "series_cache": SeriesCache(),
        "series_limiter": limiter,
        "offload": offload,  # big batches validated off the event loop
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
        "dashboard_overlays": OverlayCache(),
        # notifications
        "notification_store": notifications.store,
        "notification_clock": notifications.clock,
        "renderer": notifications.renderer,
        "guard": notifications.guard,
        "dispatcher": notifications.dispatcher,
        "secret_overlap_us": round(settings.notify_secret_overlap_seconds * 1_000_000),
        "outbox": notifications.worker,
        # analytics
        "analytics_jobs": runtimes.analytics.store,
        "analytics_runtime": runtimes.analytics.runner,
        "analytics_kinds": runtimes.analytics.kinds,
        "analytics_workers": runtimes.analytics.workers,
        "analytics_limits": runtimes.analytics.limits,
        # compliance (infra/compliance)
        **compliance.dependencies(),
        # anomaly detection, forecasts and incidents
        "anomalies": stores.anomalies,
        "anomaly_runtime": runtimes.anomalies,
        "forecaster": runtimes.forecaster,
        "history_scorer": rule_input,
        "incidents": stores.incidents,
        "incident_tracker": runtimes.incidents,
        # retention (domain/storage/retention): policies, and ingest's raw horizon
        "retention_book": runtimes.retention.book,
        "raw_retention": runtimes.retention.book,
        # cost analytics (domain/cost)
        "pricing_store": stores.pricing,
        # reports (domain/reports): the readers of USAGE and COST sections plug in here
        **report_dependencies(settings, stores, extra_readers={}),
        "report_query_audit": compliance.reads,  # a run's reads in the metric read log
        **usage_dependencies(stores, runtimes.usage),  # its meter; `metrics` noting reads
    }
    dependencies["health_checks"] = (
        *dependencies["health_checks"],
        *compliance.health_checks(_disk_of(settings)),
    )
    return build_bus(dependencies, audit=audit, query_audit=compliance.reads, gate=admission.gate)


def _disk_of(settings: Settings) -> str:
    """Where the store (DuckDB) or at least Vigil's keys and secret live."""
    if settings.store_url.startswith("duckdb:///"):
        return settings.store_url.removeprefix("duckdb:///")
    return settings.beside_secret("", ".")
