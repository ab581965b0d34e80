"""Each kind's reading step: the series it needs, through the bus, cut into tasks.

They run on the event loop and only read; every computation happens in the task's
compute function, in a worker process. Registered per kind in infra/analytics/kinds.py.
"""

from __future__ import annotations

from domain.analytics.model import AnalyticsInput, SeriesSelector
from domain.analytics.reading import NAME_TAG, narrowed, read_grids
from domain.analytics.results import AnalyticsKind, AuditMark
from domain.analytics.series import Grid
from domain.analytics.work import Prepare, Task, Work
from domain.errors import BadUserInput
from domain.matchers import matches_all
from domain.messagebus import Ask
from domain.metrics.queries import GetMetricNamesQuery, GetMetricsListQuery
from domain.system.queries import GetAuditLogQuery

__all__ = [
    "anomalies",
    "capacity",
    "change_points",
    "comparison",
    "correlation",
    "forecast",
    "seasonality",
    "trend",
]

MAX_MARKS = 1_000
MAX_CANDIDATE_METRICS = 1_000
# Audit actions that are not a change to the system: data, and analytics itself.
QUIET_ACTIONS = frozenset(
    {"CreateMetricsCommand", "CreateAnalyticsJobCommand", "CancelAnalyticsJobCommand"}
)


async def _grids(ask: Ask, project: str, spec: AnalyticsInput, max_points: int) -> list[Grid]:
    return await read_grids(
        ask,
        project,
        spec.series,
        start_us=spec.start_us,
        end_us=spec.end_us,
        step_us=spec.step_us,
        max_points=max_points,
    )


async def trend(ask: Ask, project: str, spec: AnalyticsInput, *, max_points: int) -> Work:
    grids = await _grids(ask, project, spec, max_points)
    options = {"alpha": spec.alpha}
    return Work([Task(AnalyticsKind.TREND, (g,), options) for g in grids])


async def seasonality(ask: Ask, project: str, spec: AnalyticsInput, *, max_points: int) -> Work:
    grids = await _grids(ask, project, spec, max_points)
    return Work([Task(AnalyticsKind.SEASONALITY, (g,)) for g in grids])


async def forecast(ask: Ask, project: str, spec: AnalyticsInput, *, max_points: int) -> Work:
    grids = await _grids(ask, project, spec, max_points)
    options = {"horizon": spec.horizon_buckets, "period": spec.period_buckets}
    return Work([Task(AnalyticsKind.FORECAST, (g,), options) for g in grids])


def anomalies(timezone: str) -> Prepare:
    """ANOMALIES' reading step: one task per series, scored with the input's detector
    settings; explanations tell weekdays and times of day in `timezone` (an IANA name, the
    server's VIGIL_ANOMALY_TIMEZONE, as the live detector's explanations do)."""

    async def prepare(ask: Ask, project: str, spec: AnalyticsInput, *, max_points: int) -> Work:
        grids = await _grids(ask, project, spec, max_points)
        options = {
            "sensitivity": spec.sensitivity,
            "direction": spec.direction.value,
            "seasonality": spec.seasonality.value,
            "timezone": timezone,
        }
        return Work([Task(AnalyticsKind.ANOMALIES, (g,), options) for g in grids])

    return prepare


async def change_points(ask: Ask, project: str, spec: AnalyticsInput, *, max_points: int) -> Work:
    grids = await _grids(ask, project, spec, max_points)
    marks = [m.to_dict() for m in await _marks(ask, project, spec)]
    options = {
        "penalty": spec.penalty,
        "min_segment": spec.min_segment,
        "marks": marks,
        "within_us": 3 * spec.step_us,
    }
    return Work([Task(AnalyticsKind.CHANGE_POINTS, (g,), options) for g in grids])


async def _marks(ask: Ask, project: str, spec: AnalyticsInput) -> list[AuditMark]:
    """What was done in the project over the range (the audit log: rules edited,
    dashboards changed, ...), and the points of the marker metric (deploys)."""
    entries = await ask(
        GetAuditLogQuery(project, start_us=spec.start_us, end_us=spec.end_us, first=MAX_MARKS)
    )
    marks = [
        AuditMark(
            time_us=e.timestamp_us,
            source="audit",
            summary=f"{e.action.removesuffix('Command')} by {e.actor}",
            ref=str(e.seq),
        )
        for e in entries
        if e.outcome == "ok" and e.action.endswith("Command") and e.action not in QUIET_ACTIONS
    ]
    if spec.markers is not None:
        page = await ask(
            GetMetricsListQuery(
                project,
                spec.markers.metric,
                spec.markers.matchers,
                spec.start_us,
                spec.end_us,
                first=MAX_MARKS,
            )
        )
        for point in page.items:
            tags = ", ".join(f"{k}={v}" for k, v in sorted(point.tags.items()))
            marks.append(
                AuditMark(
                    time_us=point.timestamp_us,
                    source="marker",
                    summary=f"{point.name} {{{tags}}} = {point.value:g}",
                    ref=point.id,
                )
            )
    return sorted(marks, key=lambda m: m.time_us)


async def capacity(ask: Ask, project: str, spec: AnalyticsInput, *, max_points: int) -> Work:
    grids = await _grids(ask, project, spec, max_points)
    limit_grids: tuple[Grid, ...] = ()
    if spec.limit_series is not None:
        read = len(grids) * spec.buckets
        found = await read_grids(
            ask,
            project,
            narrowed(spec.limit_series, ()),  # one limit: every matching series together
            start_us=spec.start_us,
            end_us=spec.end_us,
            step_us=spec.step_us,
            max_points=max_points,
            read_before=read,
        )
        if not found:
            raise BadUserInput(f"the limit series {spec.limit_series.metric!r} has no data")
        limit_grids = (found[0],)
    options = {
        "limit": spec.limit,
        "horizon": spec.horizon_buckets,
        "period": spec.period_buckets,
    }
    return Work([Task(AnalyticsKind.CAPACITY, (g, *limit_grids), options) for g in grids])


async def correlation(ask: Ask, project: str, spec: AnalyticsInput, *, max_points: int) -> Work:
    """The project's series (metrics named with `candidate_prefix`) over the window and the
    4x longer baseline before it; the series of the changed metric itself are left out."""
    window = spec.end_us - spec.start_us
    baseline_start = spec.start_us - 4 * window
    names = await ask(
        GetMetricNamesQuery(project, spec.candidate_prefix, limit=MAX_CANDIDATE_METRICS)
    )
    grids = []
    read = 0
    for name in names:
        found = await read_grids(
            ask,
            project,
            SeriesSelector(metric=name, aggregation=spec.series.aggregation),
            start_us=baseline_start,
            end_us=spec.end_us,
            step_us=spec.step_us,
            max_points=max_points,
            named=True,
            read_before=read,
        )
        for grid in found:
            tags = {k: v for k, v in grid.tags.items() if k != NAME_TAG}
            if name == spec.series.metric and matches_all(spec.series.matchers, tags):
                continue  # the series that changed: what the others are ranked against
            grids.append(grid)
        read += sum(len(g) for g in found)
    options = {"window_start_us": spec.start_us, "window_end_us": spec.end_us, "top": spec.top}
    return Work([Task(AnalyticsKind.CORRELATION, tuple(grids), options)])


async def comparison(ask: Ask, project: str, spec: AnalyticsInput, *, max_points: int) -> Work:
    """Every series in both periods; movers are grouped by the selector's `group_by`."""
    per_series = narrowed(spec.series, None)
    current = await read_grids(
        ask,
        project,
        per_series,
        start_us=spec.start_us,
        end_us=spec.end_us,
        step_us=spec.step_us,
        max_points=max_points,
    )
    start, end = spec.baseline()
    baseline = await read_grids(
        ask,
        project,
        per_series,
        start_us=start,
        end_us=end,
        step_us=spec.step_us,
        max_points=max_points,
        read_before=sum(len(g) for g in current),
    )
    options = {
        "current": len(current),
        "group_by": list(spec.series.group_by or ()),
        "quantiles": list(spec.quantiles),
        "top": spec.top,
    }
    return Work([Task(AnalyticsKind.COMPARISON, (*current, *baseline), options)])
