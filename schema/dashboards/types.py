"""Dashboard output types: the RFC's DashboardDto, its widgets, and each widget's data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import strawberry

from domain.dashboards import Dashboard as DomainDashboard
from domain.dashboards import DashboardData as DomainData
from domain.dashboards import SeriesQuery as DomainQuery
from domain.dashboards import Widget as DomainWidget
from domain.dashboards import WidgetData as DomainWidgetData
from domain.dashboards.queries import (
    DEFAULT_WIDTH_PX,
    GetDashboardDataQuery,
    GetDashboardHistoryQuery,
)
from domain.dashboards.read_models import Forecast as DomainForecast
from domain.durations import seconds_of
from schema.alerts import Alert, AlertSeverity, AlertState
from schema.context import Info
from schema.dashboards.inputs import WidgetKind
from schema.scalars import Duration, FloatArray, Tags
from schema.types import Aggregation, MatchOp, PageInfo, from_us

__all__ = [
    "Dashboard",
    "DashboardConnection",
    "DashboardData",
    "DataRequest",
    "WidgetData",
]


@dataclass(frozen=True, slots=True)
class DataRequest:
    """What `Dashboard.data` computes: the arguments of the root field that read it."""

    start_us: int | None = None
    end_us: int | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    width_px: int | None = None


@strawberry.type
class GridPos:
    x: int
    y: int
    w: int
    h: int


@strawberry.type
class QueryMatcher:
    key: str
    op: MatchOp
    value: str


@strawberry.type(description="A metricSeries query of a widget.")
class WidgetQuery:
    metric: str
    aggregation: Aggregation  # type: ignore[valid-type]
    matchers: list[QueryMatcher]
    group_by: list[str] | None
    step: Duration | None = strawberry.field(description="Seconds; null: fitted to the width.")
    rate: bool
    label: str

    @classmethod
    def of(cls, q: DomainQuery) -> WidgetQuery:
        return cls(
            metric=q.metric,
            aggregation=q.aggregation,
            matchers=[QueryMatcher(key=m.key, op=MatchOp(m.op), value=m.value) for m in q.matchers],
            group_by=None if q.group_by is None else list(q.group_by),
            step=None if q.step_us is None else Duration(seconds_of(q.step_us)),
            rate=q.rate,
            label=q.label,
        )


@strawberry.type
class Threshold:
    value: float | None
    color: str


@strawberry.type
class Widget:
    id: str
    kind: WidgetKind  # type: ignore[valid-type]
    title: str
    layout: GridPos
    queries: list[WidgetQuery]
    thresholds: list[Threshold]
    unit: str
    min: float | None
    max: float | None
    text: str = strawberry.field(description="Markdown, stored as text; render it safely.")
    alert_state: AlertState | None  # type: ignore[valid-type]
    alert_severity: AlertSeverity | None  # type: ignore[valid-type]
    anomalies: bool = strawberry.field(
        description="A time series that overlays each line's anomaly band and anomalies."
    )
    forecast: Duration | None = strawberry.field(
        description="A time series that draws each line's forecast this far past the range."
    )
    change_points: bool = strawberry.field(
        description="A time series that marks where each line's level or spread shifted."
    )

    @classmethod
    def of(cls, w: DomainWidget) -> Widget:
        pos = w.layout
        return cls(
            id=w.id,
            kind=w.kind,
            title=w.title,
            layout=GridPos(x=pos.x, y=pos.y, w=pos.w, h=pos.h),
            queries=[WidgetQuery.of(q) for q in w.queries],
            thresholds=[Threshold(value=t.value, color=t.color) for t in w.thresholds],
            unit=w.unit,
            min=w.min,
            max=w.max,
            text=w.text,
            alert_state=w.alert_state,
            alert_severity=w.alert_severity,
            anomalies=w.anomalies,
            forecast=None if w.forecast_us is None else Duration(seconds_of(w.forecast_us)),
            change_points=w.change_points,
        )


@strawberry.type
class DashboardVariable:
    name: str
    tag: str
    metric: str
    default: str


@strawberry.type(description="One line of a widget's chart.")
class DataLine:
    query: int = strawberry.field(description="Index of the widget's query it answers.")
    label: str
    tags: Tags
    values: FloatArray
    baseline: FloatArray | None = strawberry.field(
        default=None, description="The anomaly band (widgets with anomalies, per series)."
    )
    lower: FloatArray | None = None
    upper: FloatArray | None = None
    forecast: LineForecast | None = strawberry.field(
        default=None, description="The forecast past the range (widgets with forecast)."
    )


@strawberry.type(
    description="A line's forecast on the widget's timestamps: null over the range, then "
    "the mean path and its 80% and 95% bands; the model a backtest chose and its scores."
)
class LineForecast:
    mean: FloatArray
    lower80: FloatArray
    upper80: FloatArray
    lower95: FloatArray
    upper95: FloatArray
    model: str
    mase: float = strawberry.field(description="Backtest MASE against seasonal-naive.")
    coverage95: float = strawberry.field(description="Backtest coverage of the 95% band.")

    @classmethod
    def of(cls, f: DomainForecast) -> LineForecast:
        return cls(
            mean=FloatArray(f.mean),
            lower80=FloatArray(f.lower80),
            upper80=FloatArray(f.upper80),
            lower95=FloatArray(f.lower95),
            upper95=FloatArray(f.upper95),
            model=f.model,
            mase=f.mase,
            coverage95=f.coverage95,
        )


@strawberry.type(description="A shift of level or spread to mark on a line.")
class ChangeMark:
    query: int
    tags: Tags
    at: float = strawberry.field(description="Epoch milliseconds, as timestamps.")
    change: str = strawberry.field(description="level, variance or level_and_variance")
    mean_before: float
    mean_after: float
    audit: list[str] = strawberry.field(description="Audit entries near it (rule edits...).")


@strawberry.type(description="An anomaly to mark on a line.")
class AnomalyMark:
    query: int
    tags: Tags
    at: float = strawberry.field(description="Epoch milliseconds, as timestamps.")
    value: float
    score: float
    explanation: str


@strawberry.type
class TableRow:
    tags: Tags
    value: float | None


@strawberry.type(description="What a widget shows; the fields of its kind are filled.")
class WidgetData:
    widget_id: str
    kind: WidgetKind  # type: ignore[valid-type]
    step: float | None = strawberry.field(description="Seconds per point (time series).")
    timestamps: FloatArray = strawberry.field(description="Bucket starts, epoch milliseconds.")
    series: list[DataLine]
    value: float | None = strawberry.field(description="Stat and gauge.")
    color: str | None = strawberry.field(description="The threshold colour of the value.")
    rows: list[TableRow]
    alerts: list[Alert]
    error: str | None = strawberry.field(description="Why this widget has no data.")
    anomalies: list[AnomalyMark] = strawberry.field(
        description="Anomalies of the range, for widgets that overlay them."
    )
    change_points: list[ChangeMark] = strawberry.field(
        description="Change points of the range, for widgets that mark them."
    )
    overlay_error: str | None = strawberry.field(
        description="Why a forecast or the change points are not drawn (the lines are)."
    )

    @classmethod
    def of(cls, d: DomainWidgetData) -> WidgetData:
        return cls(
            widget_id=d.widget_id,
            kind=d.kind,
            step=seconds_of(d.step_us),
            timestamps=FloatArray([t // 1000 for t in d.timestamps_us]),
            series=[
                DataLine(
                    query=line.query,
                    label=line.label,
                    tags=Tags(line.tags),
                    values=FloatArray(line.values),
                    baseline=None if line.baseline is None else FloatArray(line.baseline),
                    lower=None if line.lower is None else FloatArray(line.lower),
                    upper=None if line.upper is None else FloatArray(line.upper),
                    forecast=None if line.forecast is None else LineForecast.of(line.forecast),
                )
                for line in d.lines
            ],
            value=d.value,
            color=d.color,
            rows=[TableRow(tags=Tags(r.tags), value=r.value) for r in d.rows],
            alerts=[Alert.of(a) for a in d.alerts],
            error=d.error,
            anomalies=[
                AnomalyMark(
                    query=m.query,
                    tags=Tags(m.tags),
                    at=m.at_us // 1000,
                    value=m.value,
                    score=m.score,
                    explanation=m.explanation,
                )
                for m in d.anomalies
            ],
            change_points=[
                ChangeMark(
                    query=c.query,
                    tags=Tags(c.tags),
                    at=c.at_us // 1000,
                    change=c.change,
                    mean_before=c.mean_before,
                    mean_after=c.mean_after,
                    audit=c.audit,
                )
                for c in d.change_points
            ],
            overlay_error=d.overlay_error,
        )


@strawberry.type
class VariableState:
    name: str
    value: str = strawberry.field(description='The value in use; "*" is every value.')
    options: list[str] = strawberry.field(description="The values the tag has.")


@strawberry.type(description="Every widget's data over [from, to).")
class DashboardData:
    from_: datetime = strawberry.field(name="from")
    to: datetime
    variables: list[VariableState]
    widgets: list[WidgetData]

    @classmethod
    def of(cls, d: DomainData) -> DashboardData:
        return cls(
            from_=from_us(d.start_us),
            to=from_us(d.end_us),
            variables=[
                VariableState(name=v.name, value=v.value, options=v.options) for v in d.variables
            ],
            widgets=[WidgetData.of(w) for w in d.widgets],
        )


async def _data(root: Dashboard, info: Info) -> DashboardData:
    d, r = root._dashboard, root._request
    query = GetDashboardDataQuery(
        d.project,
        d.id,
        r.start_us,
        r.end_us,
        dict(r.variables),
        r.width_px or DEFAULT_WIDTH_PX,
        version=d.version,
    )
    return DashboardData.of(await info.context.bus.ask(query))


async def _versions(root: Dashboard, info: Info, first: int = 20) -> list[Dashboard]:
    d = root._dashboard
    found = await info.context.bus.ask(GetDashboardHistoryQuery(d.project, d.id, first))
    return [Dashboard.of(v) for v in found]


@strawberry.type(description="A dashboard (the RFC's DashboardDto); durations in seconds.")
class Dashboard:
    id: strawberry.ID
    project: str
    name: str
    description: str
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime | None
    updated_by: str | None
    time_range: float
    refresh: float
    variables: list[DashboardVariable]
    widgets: list[Widget]
    _dashboard: strawberry.Private[DomainDashboard]
    _request: strawberry.Private[DataRequest]

    data: DashboardData = strawberry.field(
        resolver=_data,
        description="Each widget's data, computed with the arguments given to `dashboard` "
        "(range, variables, width); default: the dashboard's time range up to now.",
    )
    versions: list[Dashboard] = strawberry.field(
        resolver=_versions, description="Every saved version, newest first (restoreDashboard)."
    )

    @classmethod
    def of(cls, d: DomainDashboard, request: DataRequest | None = None) -> Dashboard:
        spec = d.spec
        return cls(
            id=strawberry.ID(d.id),
            project=d.project,
            name=spec.name,
            description=spec.description,
            version=d.version,
            created_at=from_us(d.created_at_us),
            created_by=d.created_by,
            updated_at=None if d.updated_at_us is None else from_us(d.updated_at_us),
            updated_by=d.updated_by or None,
            time_range=spec.time_range_us / 1_000_000,
            refresh=spec.refresh_us / 1_000_000,
            variables=[
                DashboardVariable(name=v.name, tag=v.tag, metric=v.metric, default=v.default)
                for v in spec.variables
            ],
            widgets=[Widget.of(w) for w in spec.widgets],
            _dashboard=d,
            _request=request or DataRequest(),
        )


@strawberry.type(description="A page of dashboards, by name.")
class DashboardConnection:
    items: list[Dashboard]
    page_info: PageInfo
