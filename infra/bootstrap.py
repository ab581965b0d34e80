"""Wiring: the one place that knows which adapters are in use.

`Vigil.start(settings)` opens the store, the event bus and the token verifier, builds the
message bus and the schema, and returns an object whose `close()` releases them in order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol

import strawberry

from domain.access import Principal
from domain.alerting import AlertStore
from domain.dashboards import DashboardStore
from domain.errors import Unauthenticated, VigilError
from domain.messagebus import EventHandler, MessageBus, Services
from domain.metrics.events import MetricCollectedEvent
from domain.metrics.ingest import IngestLimits
from domain.metrics.ports import MetricStore
from domain.notifications import NotificationStore
from domain.ports import Clock
from domain.system.ports import AuditStore
from infra.alerting import AlertCluster, AlertEngine, ShardLeases, StampedPublisher
from infra.auth import (
    JWKSTokens,
    LocalTokens,
    TokenVerifier,
    connection_init_token,
    load_or_create_secret,
)
from infra.bus import EventBus
from infra.clock import SystemClock
from infra.config import AuthMode, Settings
from infra.dashboards import install_builtin_dashboards
from infra.notifications.wiring import Notifications
from infra.notifications.worker import RetryPolicy
from infra.routing import COMMAND_HANDLERS, EVENT_HANDLERS, QUERY_HANDLERS
from infra.selfmon import SelfMonitor
from infra.ws import SubscriptionGroups, WebSocketLimits
from resolvers.root import ApiLimits, build_schema
from schema.context import VigilContext

__all__ = ["Vigil", "open_store", "vigil_version"]


def vigil_version() -> str:
    try:
        return version("vigil")
    except PackageNotFoundError:
        return "0+unknown"


@dataclass(slots=True)
class _Check:
    """A readiness probe over anything with an async `ping() -> str`."""

    name: str
    target: Any

    async def check(self) -> str:
        return str(await self.target.ping())


class StoreDatabase(Protocol):
    """What every store adapter opens: one object per store, with a port per concept."""

    @property
    def metrics(self) -> MetricStore: ...

    @property
    def audit(self) -> AuditStore: ...

    @property
    def alerts(self) -> AlertStore: ...

    @property
    def notifications(self) -> NotificationStore: ...

    @property
    def dashboards(self) -> DashboardStore: ...

    async def close(self) -> None: ...


@contextlib.asynccontextmanager
async def open_store(
    url: str, *, retention_seconds: int | None = None
) -> AsyncIterator[StoreDatabase]:
    """The store named by the URL scheme, imported only when used.

    `retention_seconds` is how long MongoDB keeps points (its time-series expiry);
    None keeps the default of 30 days, the default of VIGIL_RETENTION_DAYS.
    """
    database: StoreDatabase
    if url.startswith("duckdb:///"):
        from infra.stores.duckdb import DuckDBDatabase

        # As in SQLAlchemy: duckdb:///var/x.duckdb is relative, duckdb:////srv/x.duckdb absolute
        database = await DuckDBDatabase.open(url.removeprefix("duckdb:///"))
    elif url.startswith(("mongodb://", "mongodb+srv://")):
        from infra.stores.mongo import MongoDatabase, MongoOptions

        options = MongoOptions() if retention_seconds is None else MongoOptions(retention_seconds)
        # The database named in the URL's path, else "vigil".
        database = await MongoDatabase.open(url, options=options)
    else:
        raise ValueError(f"no store for {url.split(':', 1)[0]!r} URLs in this version")
    try:
        yield database
    finally:
        await database.close()


def _alerting(
    settings: Settings, engine: AlertEngine, store: AlertStore, events: EventBus, clock: Clock
) -> AlertEngine | AlertCluster:
    """One process evaluates every alert on a memory bus; on a shared (Redis) bus, each
    instance evaluates the alerts of the shards it holds a lease on."""
    if events.backend == "memory":
        return engine
    ttl_us = int(settings.alert_lease_seconds * 1_000_000)
    leases = ShardLeases(store, settings.instance_name, ttl_us=ttl_us)
    return AlertCluster(engine, store, leases, events, clock)


def _notifications(settings: Settings, store: NotificationStore) -> Notifications:
    retry = RetryPolicy(
        max_attempts=settings.notify_max_attempts,
        base_seconds=settings.notify_retry_base_seconds,
        max_seconds=settings.notify_retry_max_seconds,
    )
    return Notifications(
        store,
        allow_loopback=settings.notify_allow_loopback,
        tick_seconds=settings.notify_tick_seconds,
        timeout_seconds=settings.notify_timeout_seconds,
        retry=retry,
    )


def make_verifier(settings: Settings) -> TokenVerifier:
    if settings.auth_mode is AuthMode.JWKS:
        return JWKSTokens(
            settings.jwks_url, issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
    return local_tokens(settings)


def local_tokens(settings: Settings) -> LocalTokens:
    secret = settings.secret.encode() if settings.secret else None
    return LocalTokens(
        secret or load_or_create_secret(settings.secret_file),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )


@dataclass(slots=True)
class Vigil:
    """A running Vigil: its settings, message bus, schema and live endpoints."""

    settings: Settings
    bus: MessageBus
    events: EventBus
    verifier: TokenVerifier
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
    ) -> Vigil:
        """`monitor` lets the HTTP edge, built before start-up, report into the same one.
        `database`: a store opened (and closed) by the caller, shared by several instances
        in one process; default: the store of `settings.store_url`."""
        stack = contextlib.AsyncExitStack()
        await stack.__aenter__()
        try:
            if database is None:
                database = await stack.enter_async_context(
                    open_store(
                        settings.store_url, retention_seconds=settings.retention_days * 86_400
                    )
                )
            events = await stack.enter_async_context(
                EventBus(settings.bus_url, queue_size=settings.bus_queue_size)
            )
            verifier = make_verifier(settings)
            if hasattr(verifier, "aclose"):
                stack.push_async_callback(verifier.aclose)
            monitor = monitor or SelfMonitor(instance=f"{settings.host}:{settings.port}")
            clock = SystemClock()
            engine = AlertEngine(
                database.alerts,
                database.metrics,
                clock,
                tick_seconds=settings.alert_tick_seconds,
            )
            alerting = _alerting(settings, engine, database.alerts, events, clock)
            publisher = StampedPublisher(events, origin=settings.instance_name)
            notifications = _notifications(settings, database.notifications)
            services = Services(
                metrics=database.metrics,
                audit=database.audit,
                publisher=publisher,
                clock=clock,
                alerts=database.alerts,
                alert_engine=alerting,
                limits=IngestLimits(
                    max_batch=settings.max_batch,
                    retention_seconds=settings.retention_days * 86_400,
                ),
                health_checks=(_Check("store", database.metrics), _Check("event_bus", events)),
                version=vigil_version(),
                started_us=clock.now_us(),
                notifications=notifications.services,
                dashboards=database.dashboards,
            )
            await install_builtin_dashboards(services)

            async def count_points(event: MetricCollectedEvent, _: Services) -> None:
                monitor.observe_points(len(event.values))

            event_handlers: dict[Any, list[EventHandler]] = {
                k: list(v) for k, v in EVENT_HANDLERS.items()
            }
            event_handlers[MetricCollectedEvent] += [count_points, engine.on_points]
            bus = MessageBus(
                services,
                commands=COMMAND_HANDLERS,
                queries=QUERY_HANDLERS,
                events=event_handlers,
            )
            await alerting.start(publish=bus.publish)
            stack.push_async_callback(alerting.close)  # before the store closes
            await notifications.start(bus.publish)
            stack.push_async_callback(notifications.close)
            schema = build_schema(
                ApiLimits(
                    max_depth=settings.max_query_depth,
                    max_aliases=settings.max_aliases,
                    max_tokens=settings.max_tokens,
                    introspection=not settings.production,
                ),
                on_error=monitor.observe_error,
            )
            groups = SubscriptionGroups()
            stack.push_async_callback(groups.close)
            vigil = cls(
                settings=settings,
                bus=bus,
                events=events,
                verifier=verifier,
                schema=schema,
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
            if settings.self_monitor_seconds > 0:
                task = asyncio.create_task(
                    monitor.run(
                        bus,
                        interval=settings.self_monitor_seconds,
                        subscriptions=groups.members,
                        alerts=lambda: engine.rules,
                    )
                )
                stack.callback(task.cancel)
            return vigil
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
            subscriber=self.events,
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
            await self.bus.record(
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
