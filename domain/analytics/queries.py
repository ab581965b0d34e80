"""Analytics queries: the RFC's GetAnalyticsQuery (synchronous, small inputs) and the jobs."""

from __future__ import annotations

from dataclasses import dataclass

from domain.analytics.model import AnalyticsInput, JobState
from domain.analytics.results import AnalyticsKind
from domain.queries import Query

__all__ = [
    "GetAnalyticsJobQuery",
    "GetAnalyticsJobResultQuery",
    "GetAnalyticsQuery",
    "ListAnalyticsJobsQuery",
]


@dataclass(frozen=True, slots=True)
class GetAnalyticsQuery(Query):
    """Run one analysis now, in a worker process; refused above the synchronous limit."""

    project: str
    kind: AnalyticsKind
    input: AnalyticsInput


@dataclass(frozen=True, slots=True)
class GetAnalyticsJobQuery(Query):
    project: str
    id: str


@dataclass(frozen=True, slots=True)
class ListAnalyticsJobsQuery(Query):
    """Newest first; `after` is the cursor (created time, id) of the last job seen."""

    project: str
    state: JobState | None = None
    kind: AnalyticsKind | None = None
    first: int = 20
    after: tuple[int, str] | None = None


@dataclass(frozen=True, slots=True)
class GetAnalyticsJobResultQuery(Query):
    """A page of a finished job's result items, in order."""

    project: str
    id: str
    offset: int = 0
    first: int = 100
