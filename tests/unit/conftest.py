"""A message bus wired by bootstrap's routing table with the in-memory fakes.

The unit bus wires metrics, system, alerting and dashboards. Notification handlers need
the router and the worker, anomaly detection and incidents their runtimes: their tests run
through the real app (tests/api) or build their runtime (tests/unit/anomaly, incidents).
"""

from __future__ import annotations

from typing import Any

import pytest

from domain.alerting import handlers as alerting
from domain.alerting.runtime import AlertEngine
from domain.dashboards.overlays import OverlayCache
from domain.messagebus import MessageBus
from domain.metrics.ingest import IngestLimits, SeriesCache
from domain.metrics.series_limits import SeriesLimiter, SeriesLimits
from domain.system.audit import AuditTrail
from infra.bootstrap.routing import COMMAND_HANDLERS, EVENT_HANDLERS, QUERY_HANDLERS, build_bus
from infra.selfmon import count_points
from tests.unit.alerting.fakes import FakeAlertStore
from tests.unit.dashboards.fakes import MemoryDashboardStore
from tests.unit.fakes import (
    NOW_US,
    FakeAuditStore,
    FakeClock,
    FakeHealthCheck,
    FakeMetricStore,
    FakePublisher,
)

# Features whose handlers need their runtimes: their tests build them (tests/unit/<feature>)
# or run the real app (tests/api).
_OWN_TESTS = (
    "domain.notifications.",
    "domain.analytics.",
    "domain.compliance.",
    "domain.system.health",
    "domain.anomaly.",
    "domain.incidents.",
    "domain.storage.",
    "domain.reports.",
    "domain.usage.",
    "domain.cost.",
)


def _not_notifications(handler: Any) -> bool:
    return not handler.__module__.startswith(_OWN_TESTS)


def unit_bus(dependencies: dict[str, Any], *, evaluate: bool) -> MessageBus:
    """The routing table without notifications and self-monitoring; alert evaluation on
    MetricCollectedEvent only with `evaluate` (tests of the engine tick it by hand)."""
    skipped = {count_points, *(() if evaluate else (alerting.evaluate_points,))}
    events = {
        kind: [h for h in handlers if _not_notifications(h) and h not in skipped]
        for kind, handlers in EVENT_HANDLERS.items()
    }
    return build_bus(
        dependencies,
        audit=AuditTrail(dependencies["audit_store"], dependencies["clock"]),
        commands={k: h for k, h in COMMAND_HANDLERS.items() if _not_notifications(h)},
        queries={k: h for k, h in QUERY_HANDLERS.items() if _not_notifications(h)},
        events=events,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW_US)


@pytest.fixture
def store() -> FakeMetricStore:
    return FakeMetricStore()


@pytest.fixture
def audit() -> FakeAuditStore:
    return FakeAuditStore()


@pytest.fixture
def publisher() -> FakePublisher:
    return FakePublisher()


@pytest.fixture
def alert_store() -> FakeAlertStore:
    return FakeAlertStore()


@pytest.fixture
def engine(alert_store: FakeAlertStore, store: FakeMetricStore, clock: FakeClock) -> AlertEngine:
    """Not started: tests that evaluate start it (tick_seconds=0: they tick by hand)."""
    return AlertEngine(alert_store, store, clock, tick_seconds=0)


@pytest.fixture
def health_checks() -> list[FakeHealthCheck]:
    return []


@pytest.fixture
def dependencies(
    store: FakeMetricStore,
    audit: FakeAuditStore,
    publisher: FakePublisher,
    clock: FakeClock,
    alert_store: FakeAlertStore,
    engine: AlertEngine,
    health_checks: list[FakeHealthCheck],
) -> dict[str, Any]:
    """What bootstrap hands the handlers, with fakes."""
    return {
        "metrics": store,
        "audit_store": audit,
        "publisher": publisher,
        "clock": clock,
        "alerts": alert_store,
        "alert_runtime": engine,
        "alert_engine": engine,
        "dashboards": MemoryDashboardStore(),
        "dashboard_overlays": OverlayCache(),
        "limits": IngestLimits(),
        "retention_seconds": IngestLimits().retention_seconds,
        "series_cache": SeriesCache(),
        "series_limiter": SeriesLimiter(SeriesLimits(), clock),
        "health_checks": health_checks,
        "version": "9.9.9",
        "started_us": NOW_US - 90_000_000,
    }


@pytest.fixture
def bus(dependencies: dict[str, Any]) -> MessageBus:
    return unit_bus(dependencies, evaluate=False)
