"""A message bus wired with the real handler tables and the in-memory fakes."""

from __future__ import annotations

import pytest

from domain.messagebus import MessageBus, Services
from domain.metrics.ingest import IngestLimits
from infra.alerting import AlertEngine
from infra.routing import COMMAND_HANDLERS, EVENT_HANDLERS, QUERY_HANDLERS
from tests.unit.alerting.fakes import FakeAlertStore
from tests.unit.fakes import (
    NOW_US,
    FakeAuditStore,
    FakeClock,
    FakeHealthCheck,
    FakeMetricStore,
    FakePublisher,
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
def services(
    store: FakeMetricStore,
    audit: FakeAuditStore,
    publisher: FakePublisher,
    clock: FakeClock,
    alert_store: FakeAlertStore,
    engine: AlertEngine,
    health_checks: list[FakeHealthCheck],
) -> Services:
    return Services(
        metrics=store,
        audit=audit,
        publisher=publisher,
        clock=clock,
        alerts=alert_store,
        alert_engine=engine,
        limits=IngestLimits(),
        health_checks=health_checks,
        version="9.9.9",
        started_us=NOW_US - 90_000_000,
    )


@pytest.fixture
def bus(services: Services) -> MessageBus:
    return MessageBus(
        services, commands=COMMAND_HANDLERS, queries=QUERY_HANDLERS, events=EVENT_HANDLERS
    )
