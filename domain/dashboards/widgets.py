"""Widgets: what a dashboard shows, where on its grid, and the series queries behind it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from domain.alerting.model import AlertSeverity, AlertState
from domain.matchers import TagMatcher
from domain.metrics.model import Aggregation

__all__ = [
    "COMMON_FIELDS",
    "GRID_COLUMNS",
    "KIND_FIELDS",
    "GridPos",
    "SeriesQuery",
    "Threshold",
    "Widget",
    "WidgetKind",
]

GRID_COLUMNS = 24  # as Grafana: a widget is 1 to 24 columns wide
SECOND_US = 1_000_000


class WidgetKind(StrEnum):
    TIMESERIES = "timeseries"
    STAT = "stat"
    GAUGE = "gauge"
    TABLE = "table"
    ALERT_LIST = "alertList"
    TEXT = "text"


@dataclass(frozen=True, slots=True)
class GridPos:
    """Position and size on a grid of GRID_COLUMNS columns and rows of fixed height."""

    x: int
    y: int
    w: int
    h: int


@dataclass(frozen=True, slots=True)
class SeriesQuery:
    """A `metricSeries` query; `step_us` None lets the dashboard fit the step to the width.

    Matcher values may name dashboard variables (`$host`); `rate` turns a counter's
    values into a per-second rate (with `last` or `max`, a reset gives no value).
    """

    metric: str
    aggregation: Aggregation = Aggregation.AVG
    matchers: tuple[TagMatcher, ...] = ()
    group_by: tuple[str, ...] | None = None
    step_us: int | None = None
    rate: bool = False
    label: str = ""


@dataclass(frozen=True, slots=True)
class Threshold:
    """From `value` up, the colour is `color`; value None is the base colour."""

    value: float | None
    color: str


@dataclass(frozen=True, slots=True)
class Widget:
    id: str
    kind: WidgetKind
    title: str
    layout: GridPos
    queries: tuple[SeriesQuery, ...] = ()
    thresholds: tuple[Threshold, ...] = ()
    unit: str = ""
    min: float | None = None
    max: float | None = None
    text: str = ""
    alert_state: AlertState | None = None
    alert_severity: AlertSeverity | None = None
    anomalies: bool = False  # a timeseries widget overlays each line's band and anomalies
    forecast_us: int | None = None  # ... each line's forecast this far past the range
    change_points: bool = False  # ... and marks where each line's level or spread shifted

    @property
    def metrics(self) -> frozenset[str]:
        return frozenset(q.metric for q in self.queries)

    def to_dict(self, *, with_id: bool = True) -> dict[str, Any]:
        """The document form: only the fields of its kind."""
        out: dict[str, Any] = {"id": self.id} if with_id else {}
        out |= {
            "kind": self.kind.value,
            "title": self.title,
            "layout": {
                "x": self.layout.x,
                "y": self.layout.y,
                "w": self.layout.w,
                "h": self.layout.h,
            },
        }
        fields = KIND_FIELDS[self.kind]
        if "queries" in fields:
            out["queries"] = [_query_dict(q) for q in self.queries]
        if "thresholds" in fields:
            out["thresholds"] = [{"value": t.value, "color": t.color} for t in self.thresholds]
        if self.unit:
            out["unit"] = self.unit
        if "min" in fields:
            out["min"], out["max"] = self.min, self.max
        if "text" in fields:
            out["text"] = self.text
        if "alertState" in fields:
            out["alertState"] = self.alert_state.value if self.alert_state else None
            out["alertSeverity"] = self.alert_severity.value if self.alert_severity else None
        if self.anomalies:
            out["anomalies"] = True
        if self.forecast_us is not None:
            out["forecast"] = self.forecast_us / SECOND_US
        if self.change_points:
            out["changePoints"] = True
        return out


COMMON_FIELDS = frozenset({"id", "kind", "title", "layout", "unit"})
KIND_FIELDS: Mapping[WidgetKind, frozenset[str]] = {
    WidgetKind.TIMESERIES: frozenset({"queries", "anomalies", "forecast", "changePoints"}),
    WidgetKind.STAT: frozenset({"queries", "thresholds"}),
    WidgetKind.GAUGE: frozenset({"queries", "thresholds", "min", "max"}),
    WidgetKind.TABLE: frozenset({"queries"}),
    WidgetKind.ALERT_LIST: frozenset({"alertState", "alertSeverity"}),
    WidgetKind.TEXT: frozenset({"text"}),
}


def _query_dict(q: SeriesQuery) -> dict[str, Any]:
    return {
        "metric": q.metric,
        "aggregation": q.aggregation.value,
        "matchers": [{"key": m.key, "op": m.op.value, "value": m.value} for m in q.matchers],
        "groupBy": None if q.group_by is None else list(q.group_by),
        "step": None if q.step_us is None else q.step_us / SECOND_US,
        "rate": q.rate,
        "label": q.label,
    }
