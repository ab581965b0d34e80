"""Ports: what the domain needs from the outside world, as small Protocols per concept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

from domain.dtos import AuditEntry, MetricPage, SeriesResult
from domain.ingest import PointBatch
from domain.metrics import Metric
from domain.queries import GetAuditLogQuery, GetMetricSeriesQuery, GetMetricsListQuery

__all__ = [
    "AppendResult",
    "AuditStore",
    "Clock",
    "EventPublisher",
    "EventSubscriber",
    "HealthCheck",
    "MetricStore",
]


@dataclass(frozen=True, slots=True)
class AppendResult:
    accepted: int
    replayed: bool  # True when the idempotency key had been used: nothing new was stored


class MetricStore(Protocol):
    """Points and the series catalogue of every project."""

    async def append(
        self, batch: PointBatch, *, idempotency_key: str | None = None
    ) -> AppendResult:
        """Store the whole batch or nothing; return only once it is durable.

        A batch whose idempotency key was already stored for the project stores nothing
        and answers with the first batch's count and `replayed=True`.
        """
        ...

    async def get_point(self, project: str, series_id: int, timestamp_us: int) -> Metric | None: ...

    async def list_points(self, query: GetMetricsListQuery) -> MetricPage: ...

    async def aggregate(self, query: GetMetricSeriesQuery) -> SeriesResult: ...

    async def metric_names(
        self, project: str, prefix: str = "", limit: int = 1000
    ) -> list[str]: ...

    async def tag_keys(self, project: str, name: str | None = None) -> list[str]: ...

    async def tag_values(
        self, project: str, key: str, name: str | None = None, limit: int = 1000
    ) -> list[str]: ...

    async def ping(self) -> str:
        """Raise if the store cannot serve; return its version text."""
        ...

    async def close(self) -> None: ...


class AuditStore(Protocol):
    async def record(self, entry: AuditEntry) -> None: ...

    async def list_entries(self, query: GetAuditLogQuery) -> list[AuditEntry]: ...


class EventPublisher(Protocol):
    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...


class EventSubscriber(Protocol):
    def subscribe(self, channel: str) -> AsyncIterator[dict[str, Any]]:
        """Messages of one channel, as published, until the caller stops iterating."""
        ...


class Clock(Protocol):
    def now_us(self) -> int: ...


class HealthCheck(Protocol):
    name: str

    async def check(self) -> str:
        """Raise if the component is down; return its version text."""
        ...
