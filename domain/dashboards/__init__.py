"""Dashboards: documents of widgets over a project's metrics, versioned, with live data."""

from domain.dashboards.dashboard import Dashboard
from domain.dashboards.errors import DashboardConflict
from domain.dashboards.events import (
    DashboardCreatedEvent,
    DashboardDeletedEvent,
    DashboardEvent,
    DashboardUpdatedEvent,
)
from domain.dashboards.ports import DashboardStore
from domain.dashboards.read_models import (
    DashboardData,
    DashboardDto,
    LineData,
    TableRow,
    VariableState,
    WidgetData,
)
from domain.dashboards.spec import ALL, FORMAT, DashboardSpec, Variable, read_spec
from domain.dashboards.widgets import GridPos, SeriesQuery, Threshold, Widget, WidgetKind

__all__ = [
    "ALL",
    "FORMAT",
    "Dashboard",
    "DashboardConflict",
    "DashboardCreatedEvent",
    "DashboardData",
    "DashboardDeletedEvent",
    "DashboardDto",
    "DashboardEvent",
    "DashboardSpec",
    "DashboardStore",
    "DashboardUpdatedEvent",
    "GridPos",
    "LineData",
    "SeriesQuery",
    "TableRow",
    "Threshold",
    "Variable",
    "VariableState",
    "Widget",
    "WidgetData",
    "WidgetKind",
    "read_spec",
]
