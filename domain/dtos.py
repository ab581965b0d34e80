"""Read models returned by queries (the RFC's DTOs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.metrics import Metric

__all__ = [
    "AuditEntry",
    "ComponentHealthDto",
    "HealthCheckDto",
    "IngestReceipt",
    "MetricDto",
    "MetricPage",
    "SeriesData",
    "SeriesResult",
]

MetricDto = Metric


@dataclass(frozen=True, slots=True)
class MetricPage:
    items: list[Metric]
    has_next_page: bool


@dataclass(frozen=True, slots=True)
class SeriesData:
    """One line of a chart: its tags (the group's, when grouped) and one value per bucket."""

    tags: dict[str, str]
    values: list[float | None]


@dataclass(frozen=True, slots=True)
class SeriesResult:
    """Dense arrays: `timestamps_us[i]` is the start of bucket i for every series."""

    timestamps_us: list[int]
    series: list[SeriesData]


@dataclass(frozen=True, slots=True)
class ComponentHealthDto:
    name: str
    status: str  # "ok" or "down"
    latency_ms: float
    version: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class HealthCheckDto:
    status: str  # "ok", "degraded" or "down"
    version: str
    uptime_seconds: float
    components: list[ComponentHealthDto]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what, where, when, and how it ended; `seq` orders entries for paging."""

    actor: str
    action: str
    project: str
    outcome: str  # "ok" or an error code such as FORBIDDEN
    timestamp_us: int
    request_id: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    seq: int = 0


@dataclass(frozen=True, slots=True)
class IngestReceipt:
    """The answer to an accepted batch; point ids are derived only when asked for."""

    accepted: int
    replayed: bool
    batch: Any = None  # the validated PointBatch

    def point_ids(self) -> list[str]:
        return self.batch.point_ids() if self.batch is not None else []
