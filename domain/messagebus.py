"""The message bus: routes commands and queries to their handler, then events to theirs."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.alerting.ports import AlertEngine, AlertStore
from domain.commands import Command
from domain.dashboards.memory import MemoryDashboardStore
from domain.dashboards.ports import DashboardStore
from domain.errors import VigilError
from domain.events import Event
from domain.metrics.ingest import IngestLimits, SeriesCache
from domain.metrics.ports import MetricStore
from domain.notifications.services import NotificationServices
from domain.ports import Clock, EventPublisher
from domain.queries import Query
from domain.system.ports import AuditStore, HealthCheck
from domain.system.read_models import AuditEntry

__all__ = ["CommandHandler", "EventHandler", "MessageBus", "QueryHandler", "Services"]

logger = logging.getLogger("vigil.bus")


@dataclass(slots=True)
class Services:
    """Everything a handler may touch, wired once by infra/bootstrap.py."""

    metrics: MetricStore
    audit: AuditStore
    publisher: EventPublisher
    clock: Clock
    alerts: AlertStore
    alert_engine: AlertEngine
    limits: IngestLimits = field(default_factory=IngestLimits)
    series_cache: SeriesCache = field(default_factory=SeriesCache)
    health_checks: Sequence[HealthCheck] = ()
    version: str = "0"
    started_us: int = 0
    dashboards: DashboardStore = field(default_factory=MemoryDashboardStore)
    notifications: NotificationServices | None = None  # None: notifications are off


CommandHandler = Callable[[Any, Services, list[Event]], Awaitable[Any]]
QueryHandler = Callable[[Any, Services], Awaitable[Any]]
EventHandler = Callable[[Any, Services], Awaitable[None]]


class MessageBus:
    """A failing command raises to its caller; a failing event handler is logged only."""

    def __init__(
        self,
        services: Services,
        *,
        commands: Mapping[type[Command], CommandHandler],
        queries: Mapping[type[Query], QueryHandler],
        events: Mapping[type[Event], Sequence[EventHandler]],
    ) -> None:
        self.services = services
        self._commands = commands
        self._queries = queries
        self._events = events

    async def handle(self, command: Command, *, actor: str = "", request_id: str = "") -> Any:
        """Run a command; every command from a caller (actor) leaves an audit entry."""
        handler = self._commands[type(command)]
        events: list[Event] = []
        try:
            result = await handler(command, self.services, events)
        except VigilError as exc:
            await self._audit(command, actor, request_id, exc.code)
            raise
        except Exception:
            await self._audit(command, actor, request_id, "INTERNAL")
            raise
        await self._audit(command, actor, request_id, "ok")
        for event in events:
            await self.publish(event)
        return result

    async def ask(self, query: Query) -> Any:
        return await self._queries[type(query)](query, self.services)

    async def publish(self, event: Event) -> None:
        for handler in self._events.get(type(event), ()):
            try:
                await handler(event, self.services)
            except Exception:
                logger.exception("event handler %s failed for %s", handler, type(event).__name__)

    async def record(
        self,
        *,
        actor: str,
        action: str,
        project: str,
        outcome: str,
        request_id: str = "",
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Write an audit entry for something that is not a command (a denial, a login)."""
        entry = AuditEntry(
            actor=actor,
            action=action,
            project=project,
            outcome=outcome,
            timestamp_us=self.services.clock.now_us(),
            request_id=request_id,
            detail=detail or {},
        )
        await self.services.audit.record(entry)

    async def _audit(self, command: Command, actor: str, request_id: str, outcome: str) -> None:
        if not actor:  # Vigil's own work (self-monitoring) is not a user's action
            return
        await self.record(
            actor=actor,
            action=type(command).__name__,
            project=getattr(command, "project", ""),
            outcome=outcome,
            request_id=request_id,
        )
