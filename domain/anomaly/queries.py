"""Anomaly queries: scored anomalies, the band for charts, the detections of a project."""

from __future__ import annotations

from dataclasses import dataclass

from domain.matchers import TagMatcher
from domain.queries import Query

__all__ = ["GetAnomalyBandQuery", "ListAnomaliesQuery", "ListAnomalyDetectionsQuery"]


@dataclass(frozen=True, slots=True)
class ListAnomaliesQuery(Query):
    """Anomalies of [start, end), newest first, scoring at least `min_score`; `after` is the
    cursor of the last one seen."""

    project: str
    metric: str
    matchers: tuple[TagMatcher, ...] = ()
    start_us: int = 0
    end_us: int = 0
    min_score: float = 0.0
    first: int = 100
    after: str | None = None


@dataclass(frozen=True, slots=True)
class GetAnomalyBandQuery(Query):
    """The band of each selected series on the chart grid of [start, end) by `step_us`."""

    project: str
    metric: str
    start_us: int
    end_us: int
    step_us: int
    matchers: tuple[TagMatcher, ...] = ()


@dataclass(frozen=True, slots=True)
class ListAnomalyDetectionsQuery(Query):
    project: str
