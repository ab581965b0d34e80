"""Dashboard inputs: DashboardInput mirrors the dashboard document (docs/dashboards.md), into
which it is turned, so that GraphQL and imported JSON pass the same checks."""

from __future__ import annotations

from typing import Any

import strawberry

from domain.dashboards import WidgetKind as DomainWidgetKind
from domain.durations import parse_duration
from domain.matchers import MatchOp as DomainMatchOp
from domain.metrics.model import Aggregation as DomainAggregation
from schema.alerts import AlertSeverity, AlertState
from schema.inputs import TagMatcherInput
from schema.scalars import Duration
from schema.types import Aggregation

__all__ = [
    "DashboardInput",
    "GridPosInput",
    "SeriesQueryInput",
    "ThresholdInput",
    "VariableInput",
    "WidgetInput",
    "WidgetKind",
]

WidgetKind = strawberry.enum(DomainWidgetKind, name="WidgetKind")


def _seconds(value: object, name: str) -> float:
    return parse_duration(value, name) / 1_000_000


@strawberry.input(description="Where a widget sits on the 24-column grid, and its size.")
class GridPosInput:
    x: int
    y: int
    w: int
    h: int


@strawberry.input(description="A metricSeries query; matcher values may name variables ($host).")
class SeriesQueryInput:
    metric: str
    aggregation: Aggregation = DomainAggregation.AVG  # type: ignore[valid-type]
    matchers: list[TagMatcherInput] | None = None
    group_by: list[str] | None = None
    step: Duration | None = strawberry.field(
        default=None, description="Bucket width; none: fitted to the range and widget width."
    )
    rate: bool = strawberry.field(default=False, description="Per-second rate of a counter.")
    label: str = ""

    def to_document(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "aggregation": DomainAggregation(self.aggregation).value,
            "matchers": [
                {"key": m.key, "op": DomainMatchOp(m.op.value).value, "value": m.value}
                for m in self.matchers or ()
            ],
            "groupBy": self.group_by,
            "step": None if self.step is None else _seconds(self.step, "step"),
            "rate": self.rate,
            "label": self.label,
        }


@strawberry.input(description="From `value` up the colour is `color`; no value: the base.")
class ThresholdInput:
    color: str
    value: float | None = None


@strawberry.input(description="A widget; only the fields of its kind may be set.")
class WidgetInput:
    kind: WidgetKind  # type: ignore[valid-type]
    layout: GridPosInput
    title: str = ""
    id: str | None = None
    queries: list[SeriesQueryInput] | None = None
    thresholds: list[ThresholdInput] | None = None
    unit: str | None = None
    min: float | None = None
    max: float | None = None
    text: str | None = strawberry.field(default=None, description="Markdown (text widgets).")
    alert_state: AlertState | None = None  # type: ignore[valid-type]
    alert_severity: AlertSeverity | None = None  # type: ignore[valid-type]
    anomalies: bool | None = strawberry.field(
        default=None, description="Time series: overlay each line's anomaly band and marks."
    )
    forecast: Duration | None = strawberry.field(
        default=None,
        description="Time series: draw each line's forecast (80% and 95% bands) this far "
        'past the range, e.g. "1h"; fitted by the FORECAST analysis.',
    )
    change_points: bool | None = strawberry.field(
        default=None, description="Time series: mark where each line's level or spread shifted."
    )

    def to_document(self) -> dict[str, Any]:
        layout = self.layout
        document: dict[str, Any] = {
            "id": self.id,
            "kind": DomainWidgetKind(self.kind).value,
            "title": self.title,
            "layout": {"x": layout.x, "y": layout.y, "w": layout.w, "h": layout.h},
            "queries": None if self.queries is None else [q.to_document() for q in self.queries],
            "thresholds": None
            if self.thresholds is None
            else [{"value": t.value, "color": t.color} for t in self.thresholds],
            "unit": self.unit,
            "min": self.min,
            "max": self.max,
            "text": self.text,
            "alertState": None if self.alert_state is None else self.alert_state.value,
            "alertSeverity": None if self.alert_severity is None else self.alert_severity.value,
            "anomalies": self.anomalies,
            "forecast": self.forecast,
            "changePoints": self.change_points,
        }
        return {key: value for key, value in document.items() if value is not None}


@strawberry.input(description='A variable: `$name` takes the values of a tag; "*" is all.')
class VariableInput:
    name: str
    tag: str
    metric: str = ""
    default: str = "*"


@strawberry.input(description="A whole dashboard; durations are seconds or text such as 1h.")
class DashboardInput:
    name: str
    description: str = ""
    widgets: list[WidgetInput] = strawberry.field(default_factory=list)
    variables: list[VariableInput] = strawberry.field(default_factory=list)
    time_range: Duration | None = strawberry.field(default=None, description="Default 1h.")
    refresh: Duration | None = strawberry.field(
        default=None, description="Default 10s; 0: live updates only."
    )

    def to_document(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "widgets": [w.to_document() for w in self.widgets],
            "variables": [
                {"name": v.name, "tag": v.tag, "metric": v.metric, "default": v.default}
                for v in self.variables
            ],
        }
        if self.time_range is not None:
            document["timeRange"] = _seconds(self.time_range, "timeRange")
        if self.refresh is not None:
            document["refresh"] = _seconds(self.refresh, "refresh")
        return document
