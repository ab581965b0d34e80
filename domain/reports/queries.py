"""Report queries: a report, the project's reports, and a report's runs."""

from __future__ import annotations

from dataclasses import dataclass

from domain.queries import Query

__all__ = ["GetReportQuery", "GetReportRunQuery", "ListReportRunsQuery", "ListReportsQuery"]


@dataclass(frozen=True, slots=True)
class GetReportQuery(Query):
    project: str
    id: str


@dataclass(frozen=True, slots=True)
class ListReportsQuery(Query):
    """Oldest first; `after` is the id of the last report seen."""

    project: str
    first: int = 100
    after: str | None = None


@dataclass(frozen=True, slots=True)
class ListReportRunsQuery(Query):
    """Newest first; `after` is the id of the last run seen."""

    project: str
    report_id: str
    first: int = 100
    after: str | None = None


@dataclass(frozen=True, slots=True)
class GetReportRunQuery(Query):
    project: str
    run_id: str
