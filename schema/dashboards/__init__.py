"""Dashboard types, inputs and live messages of the GraphQL schema."""

from schema.dashboards.inputs import (
    DashboardInput,
    GridPosInput,
    SeriesQueryInput,
    ThresholdInput,
    VariableInput,
    WidgetInput,
    WidgetKind,
)
from schema.dashboards.live import DashboardCreated, DashboardUpdate
from schema.dashboards.types import (
    Dashboard,
    DashboardConnection,
    DashboardData,
    DataRequest,
    WidgetData,
)

__all__ = [
    "Dashboard",
    "DashboardConnection",
    "DashboardCreated",
    "DashboardData",
    "DashboardInput",
    "DashboardUpdate",
    "DataRequest",
    "GridPosInput",
    "SeriesQueryInput",
    "ThresholdInput",
    "VariableInput",
    "WidgetData",
    "WidgetInput",
    "WidgetKind",
]
