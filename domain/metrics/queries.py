"""Metric queries: the RFC's GetMetricsByIdQuery and GetMetricsListQuery, and the chart and
discovery reads."""

from __future__ import annotations

from dataclasses import dataclass

from domain.matchers import TagMatcher
from domain.metrics.model import Aggregation
from domain.queries import Query

__all__ = [
    "GetMetricMetadataQuery",
    "GetMetricNamesQuery",
    "GetMetricSeriesQuery",
    "GetMetricsByIdQuery",
    "GetMetricsListQuery",
    "GetTagKeysQuery",
    "GetTagValuesQuery",
]


@dataclass(frozen=True, slots=True)
class GetMetricsByIdQuery(Query):
    project: str
    id: str


@dataclass(frozen=True, slots=True)
class GetMetricsListQuery(Query):
    """Points newest first; `after` is the cursor of the last point already seen."""

    project: str
    name: str | None = None
    matchers: tuple[TagMatcher, ...] = ()
    start_us: int | None = None
    end_us: int | None = None
    first: int = 100
    after: tuple[int, int] | None = None  # (timestamp_us, series id) of the last point seen


@dataclass(frozen=True, slots=True)
class GetMetricSeriesQuery(Query):
    """Dense arrays for a chart; no step means one bucket over the whole range."""

    project: str
    name: str
    start_us: int
    end_us: int
    aggregation: Aggregation = Aggregation.AVG
    step_us: int | None = None
    matchers: tuple[TagMatcher, ...] = ()
    group_by: tuple[str, ...] | None = None  # None: one result per series
    # False reads raw points only; True lets the store serve whole buckets from the
    # coarsest rollup tier the step allows (domain/storage/tier_choice.py).
    use_tiers: bool = True


@dataclass(frozen=True, slots=True)
class GetMetricNamesQuery(Query):
    project: str
    prefix: str = ""
    limit: int = 1000


@dataclass(frozen=True, slots=True)
class GetTagKeysQuery(Query):
    project: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class GetTagValuesQuery(Query):
    project: str
    key: str
    name: str | None = None
    limit: int = 1000


@dataclass(frozen=True, slots=True)
class GetMetricMetadataQuery(Query):
    """Metric names with what their senders said about them (type, help, unit)."""

    project: str
    prefix: str = ""
    limit: int = 1000
