"""Opening adapters: the store named by its URL, the token verifier, health probes."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol

from domain.alerting.ports import AlertStore
from domain.analytics.ports import AnalyticsJobStore
from domain.anomaly.ports import AnomalyStore
from domain.cost.ports import PricingStore
from domain.dashboards.ports import DashboardStore
from domain.incidents.ports import IncidentStore
from domain.metrics.ports import MetricStore
from domain.notifications.ports import NotificationStore
from domain.ports import LeaseStore
from domain.reports.ports import ArtefactStore, ReportStore
from domain.reports.slots import ReportSlotStore
from domain.storage.retention.ports import RetentionStore
from domain.system.ports import AuditStore
from infra.auth import (
    JWKSTokens,
    LocalTokens,
    TokenCache,
    TokenVerifier,
    load_or_create_secret,
)
from infra.config import AuthMode, Settings

__all__ = [
    "StoreDatabase",
    "StoreProbe",
    "bus_key",
    "local_tokens",
    "make_verifier",
    "open_store",
    "vigil_version",
]


def vigil_version() -> str:
    try:
        return version("vigil")
    except PackageNotFoundError:
        return "0+unknown"


class StoreDatabase(Protocol):
    """What every store adapter opens: one object per store, with a port per concept."""

    @property
    def metrics(self) -> MetricStore: ...

    @property
    def audit(self) -> AuditStore: ...

    @property
    def alerts(self) -> AlertStore: ...

    @property
    def leases(self) -> LeaseStore: ...

    @property
    def notifications(self) -> NotificationStore: ...

    @property
    def dashboards(self) -> DashboardStore: ...

    @property
    def analytics(self) -> AnalyticsJobStore: ...

    @property
    def anomalies(self) -> AnomalyStore: ...

    @property
    def incidents(self) -> IncidentStore: ...

    @property
    def retention(self) -> RetentionStore: ...

    @property
    def pricing(self) -> PricingStore: ...

    @property
    def reports(self) -> ReportStore: ...

    @property
    def report_artefacts(self) -> ArtefactStore: ...

    @property
    def report_slots(self) -> ReportSlotStore: ...

    async def close(self) -> None: ...


@contextlib.asynccontextmanager
async def open_store(
    url: str,
    *,
    retention_seconds: int | None = None,
    checkpoint_bytes: int | None = None,
    memory_limit_mb: int | None = None,
    compaction_seconds: float = 0.0,
    compaction_partition_seconds: int = 3_600,
    block_bytes: int | None = None,
) -> AsyncIterator[StoreDatabase]:
    """The store named by the URL scheme, imported only when used.

    `retention_seconds` is how long MongoDB keeps points (its time-series expiry);
    None keeps the default of 30 days, the default of VIGIL_RETENTION_DAYS.
    `checkpoint_bytes`: how long DuckDB's log grows before a checkpoint (DuckDB's default).
    `memory_limit_mb`: DuckDB's memory limit in MiB (None: DuckDB's default, 80% of RAM).
    `compaction_seconds`, `compaction_partition_seconds`: DuckDB's compaction of closed
    partitions (docs/decisions/0026); 0 seconds turns it off. `block_bytes`: DuckDB's block
    size for a new file (None: DuckDB's default, 256 KiB).
    """
    database: StoreDatabase
    if url.startswith("duckdb:///"):
        from infra.stores.duckdb import DuckDBDatabase

        # As in SQLAlchemy: duckdb:///var/x.duckdb is relative, duckdb:////srv/x.duckdb absolute
        database = await DuckDBDatabase.open(
            url.removeprefix("duckdb:///"),
            checkpoint_bytes=checkpoint_bytes,
            memory_limit_mb=memory_limit_mb,
            compaction_seconds=compaction_seconds,
            compaction_partition_seconds=compaction_partition_seconds,
            block_bytes=block_bytes,
        )
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


@dataclass(slots=True)
class StoreProbe:
    """A readiness probe (the HealthCheck port) over anything with `async ping() -> str`."""

    name: str
    target: Any

    async def check(self) -> str:
        return str(await self.target.ping())


def make_verifier(settings: Settings) -> TokenVerifier:
    """The token verifier of `settings.auth_mode`, behind a cache of the tokens it accepted
    (VIGIL_TOKEN_CACHE_SIZE; infra/auth/cache.py)."""
    verifier: JWKSTokens | LocalTokens
    if settings.auth_mode is AuthMode.JWKS:
        verifier = JWKSTokens(
            settings.jwks_url, issuer=settings.jwt_issuer, audience=settings.jwt_audience
        )
    else:
        verifier = local_tokens(settings)
    if settings.token_cache_size <= 0:
        return verifier
    return TokenCache(
        verifier, max_entries=settings.token_cache_size, leeway_seconds=verifier.leeway_seconds
    )


def local_tokens(settings: Settings) -> LocalTokens:
    secret = settings.secret.encode() if settings.secret else None
    return LocalTokens(
        secret or load_or_create_secret(settings.secret_file),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )


def bus_key(settings: Settings) -> bytes:
    """The key that signs event-bus messages: VIGIL_BUS_SECRET; else, in local auth mode,
    one derived from the token secret (which every instance of a cluster shares already);
    else (JWKS with a memory:// bus: one process) a random one. `Settings.check` requires
    VIGIL_BUS_SECRET where neither fallback is safe (a redis:// bus in production mode or
    with JWKS)."""
    if settings.bus_secret:
        return settings.bus_secret.encode()
    if settings.auth_mode is AuthMode.LOCAL:
        token_secret = settings.secret.encode() or load_or_create_secret(settings.secret_file)
        # Derived, not the token secret itself: a bus key never signs a token.
        return hmac.new(token_secret, b"vigil event bus v1", hashlib.sha256).digest()
    return os.urandom(32)
