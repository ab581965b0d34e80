"""Dashboard queries: the RFC's GetDashboardQuery, the list, history, data and export."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.queries import Query

__all__ = [
    "DEFAULT_WIDTH_PX",
    "ExportDashboardQuery",
    "GetDashboardDataQuery",
    "GetDashboardHistoryQuery",
    "GetDashboardQuery",
    "GetDashboardsListQuery",
]

DEFAULT_WIDTH_PX = 1_920  # a dashboard as wide as a common screen


@dataclass(frozen=True, slots=True)
class GetDashboardQuery(Query):
    """The dashboard, or the stored `version` of it."""

    project: str
    id: str
    version: int | None = None


@dataclass(frozen=True, slots=True)
class GetDashboardsListQuery(Query):
    """By name; `search` keeps those whose name or description holds it (any case);
    `after` is the id of the last dashboard seen."""

    project: str
    search: str | None = None
    first: int = 100
    after: str | None = None


@dataclass(frozen=True, slots=True)
class GetDashboardHistoryQuery(Query):
    """Every stored version, newest first."""

    project: str
    id: str
    first: int = 100


@dataclass(frozen=True, slots=True)
class GetDashboardDataQuery(Query):
    """Each widget's data over [start, end) with the variables' values; `width_px` is the
    dashboard's width, from which a widget's step follows when its query sets none;
    `widget_ids` None: every widget; `version` None: the current version."""

    project: str
    id: str
    start_us: int | None = None  # None: end minus the dashboard's time range
    end_us: int | None = None  # None: now
    variables: Mapping[str, str] = field(default_factory=dict)
    width_px: int = DEFAULT_WIDTH_PX
    widget_ids: frozenset[str] | None = None
    version: int | None = None


@dataclass(frozen=True, slots=True)
class ExportDashboardQuery(Query):
    """The document as JSON, without ids, authors or versions."""

    project: str
    id: str
