"""Fixtures of the store contract: every adapter in STORE_FACTORIES runs every test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Protocol, cast

import pytest

from domain.alerting.ports import AlertStore
from domain.anomaly.ports import AnomalyStore
from domain.dashboards.ports import DashboardStore
from domain.incidents.ports import IncidentStore
from domain.metrics.ports import MetricStore
from domain.notifications.ports import NotificationStore
from domain.ports import LeaseStore
from domain.system.ports import AuditStore
from domain.usage.ports import UsageStore
from infra.stores.duckdb import DuckDBDatabase
from tests.contract.mongo_emulator import open_mongo_emulated, open_mongo_real, skip_reason


class StoreDatabase(Protocol):
    """What an adapter's factory opens: the two stores and a way to close them."""

    @property
    def metrics(self) -> MetricStore: ...

    @property
    def audit(self) -> AuditStore: ...

    async def close(self) -> None: ...


StoreFactory = Callable[[Path], Awaitable[StoreDatabase]]


async def open_duckdb(tmp_path: Path) -> StoreDatabase:
    return await DuckDBDatabase.open(str(tmp_path / "store" / "vigil.duckdb"))


# (id, factory). A factory opens a store whose data lives under, or is named after,
# tmp_path: opened again with the same tmp_path it must find the same data (restart tests),
# and no two tmp_paths may share data. Tests use only the port methods, never SQL.
STORE_FACTORIES: list[tuple[str, StoreFactory]] = [
    ("duckdb", open_duckdb),
    ("mongo-emulated", open_mongo_emulated),  # mongomock-ng: see mongo_emulator.py
    ("mongo-real", open_mongo_real),  # skipped unless VIGIL_TEST_MONGO_URL is set
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Skip, with the reason, what a factory cannot run (see mongo_emulator.py)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        factory = callspec.params.get("store_factory") if callspec is not None else None
        reason = skip_reason(factory, getattr(item, "originalname", item.name))
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(
    params=[factory for _, factory in STORE_FACTORIES],
    ids=[name for name, _ in STORE_FACTORIES],
)
def store_factory(request: pytest.FixtureRequest) -> StoreFactory:
    factory: StoreFactory = request.param
    return factory


@pytest.fixture
async def store_db(store_factory: StoreFactory, tmp_path: Path) -> AsyncIterator[StoreDatabase]:
    db = await store_factory(tmp_path)
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def metrics(store_db: StoreDatabase) -> MetricStore:
    return store_db.metrics


@pytest.fixture
def audit(store_db: StoreDatabase) -> AuditStore:
    return store_db.audit


@pytest.fixture
def alerts(store_db: StoreDatabase) -> AlertStore:
    """The store's AlertStore (the alerting contract tests use only the port)."""
    from tests.contract.alerting_data import alerts_of

    return alerts_of(store_db)


@pytest.fixture
def dashboards(store_db: StoreDatabase) -> DashboardStore:
    """The store's DashboardStore (the dashboard contract tests use only the port)."""
    return cast(DashboardStore, store_db.dashboards)  # type: ignore[attr-defined]


@pytest.fixture
def notifications(store_db: StoreDatabase) -> NotificationStore:
    """The store's NotificationStore (the notification contract tests use only the port)."""
    return cast(NotificationStore, store_db.notifications)  # type: ignore[attr-defined]


@pytest.fixture
def leases(store_db: StoreDatabase) -> LeaseStore:
    return cast(LeaseStore, store_db.leases)  # type: ignore[attr-defined]


@pytest.fixture
def anomalies(store_db: StoreDatabase) -> AnomalyStore:
    """The store's AnomalyStore (the anomaly contract tests use only the port)."""
    return cast(AnomalyStore, store_db.anomalies)  # type: ignore[attr-defined]


@pytest.fixture
def incidents(store_db: StoreDatabase) -> IncidentStore:
    return cast(IncidentStore, store_db.incidents)  # type: ignore[attr-defined]


@pytest.fixture
def usage(store_db: StoreDatabase) -> UsageStore:
    """The store's UsageStore (the usage contract tests use only the port)."""
    return cast(UsageStore, store_db.usage)  # type: ignore[attr-defined]
