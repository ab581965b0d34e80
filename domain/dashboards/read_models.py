"""Read models of dashboards (the RFC's DashboardDto is the Dashboard itself, plus these)."""

from __future__ import annotations

from dataclasses import dataclass, field

from domain.alerting.read_models import AlertDto
from domain.dashboards.dashboard import Dashboard
from domain.dashboards.widgets import WidgetKind

__all__ = [
    "AnomalyMark",
    "ChangeMark",
    "DashboardData",
    "DashboardDto",
    "Forecast",
    "LineData",
    "TableRow",
    "VariableState",
    "WidgetData",
]


DashboardDto = Dashboard  # the RFC's name; a dashboard carries nothing a reader may not see


@dataclass(frozen=True, slots=True)
class LineData:
    """One line of a chart: from query `query` of the widget, for the group `tags`."""

    query: int
    label: str
    tags: dict[str, str]
    values: list[float | None]
    # The anomaly band on the same buckets (widgets with `anomalies`, per-series lines).
    baseline: list[float | None] | None = None
    lower: list[float | None] | None = None
    upper: list[float | None] | None = None
    # The forecast past the range, on the same buckets (widgets with `forecast`): None
    # over the range, then the mean path and its 80% and 95% bands.
    forecast: Forecast | None = None


@dataclass(frozen=True, slots=True)
class Forecast:
    """A line's forecast on the chart's buckets (None where it says nothing), the model
    the backtest chose, and its scores there (MASE against seasonal-naive, coverage)."""

    mean: list[float | None]
    lower80: list[float | None]
    upper80: list[float | None]
    lower95: list[float | None]
    upper95: list[float | None]
    model: str
    mase: float
    coverage95: float


@dataclass(frozen=True, slots=True)
class ChangeMark:
    """A shift of level or spread to mark on the line of query `query` with tags `tags`,
    with the audit entries near it (a rule edited, a deploy marker)."""

    query: int
    tags: dict[str, str]
    at_us: int
    change: str
    mean_before: float
    mean_after: float
    audit: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AnomalyMark:
    """An anomaly to mark on the line of query `query` with tags `tags`."""

    query: int
    tags: dict[str, str]
    at_us: int
    value: float
    score: float
    explanation: str


@dataclass(frozen=True, slots=True)
class TableRow:
    tags: dict[str, str]
    value: float | None


@dataclass(frozen=True, slots=True)
class WidgetData:
    """What one widget shows now; the fields of its kind are filled, `error` says why a
    widget has nothing (the other widgets still have their data)."""

    widget_id: str
    kind: WidgetKind
    step_us: int | None = None
    timestamps_us: list[int] = field(default_factory=list)
    lines: list[LineData] = field(default_factory=list)
    value: float | None = None
    color: str | None = None
    rows: list[TableRow] = field(default_factory=list)
    alerts: list[AlertDto] = field(default_factory=list)
    error: str | None = None
    anomalies: list[AnomalyMark] = field(default_factory=list)
    change_points: list[ChangeMark] = field(default_factory=list)
    overlay_error: str | None = None  # why a forecast or change points are not drawn


@dataclass(frozen=True, slots=True)
class VariableState:
    """A variable's value in use and the values its tag has (the choices to offer)."""

    name: str
    value: str
    options: list[str]


@dataclass(frozen=True, slots=True)
class DashboardData:
    dashboard: Dashboard
    start_us: int
    end_us: int
    variables: list[VariableState]
    widgets: list[WidgetData]
