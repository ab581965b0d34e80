"""A message bus wired with the real handler tables and the in-memory fakes."""

from __future__ import annotations

import pytest

from domain.handlers import COMMAND_HANDLERS, EVENT_HANDLERS, QUERY_HANDLERS
from domain.ingest import IngestLimits
from domain.messagebus import MessageBus, Services
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
def health_checks() -> list[FakeHealthCheck]:
    return []


@pytest.fixture
def services(
    store: FakeMetricStore,
    audit: FakeAuditStore,
    publisher: FakePublisher,
    clock: FakeClock,
    health_checks: list[FakeHealthCheck],
) -> Services:
    return Services(
        metrics=store,
        audit=audit,
        publisher=publisher,
        clock=clock,
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
