"""Usage queries: usage per bucket and tag group, cardinality, unused metrics."""

from __future__ import annotations

from dataclasses import dataclass

from domain.queries import Query

__all__ = ["GetCardinalityQuery", "GetUnusedMetricsQuery", "GetUsageAllQuery", "GetUsageQuery"]


@dataclass(frozen=True, slots=True)
class GetUsageQuery(Query):
    project: str
    start_us: int
    end_us: int
    step_us: int
    group_by: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GetUsageAllQuery(Query):
    """Every project's totals (a system administrator's view)."""

    start_us: int
    end_us: int
    step_us: int


@dataclass(frozen=True, slots=True)
class GetCardinalityQuery(Query):
    project: str
    metric: str | None = None
    first: int = 20
    recent_us: int = 86_400_000_000  # "new" series: first stored within this


@dataclass(frozen=True, slots=True)
class GetUnusedMetricsQuery(Query):
    project: str
    days: int = 30
    first: int = 100
