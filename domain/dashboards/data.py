"""Widget data: each widget's query answered as the widget draws it."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace

from domain.alerting.queries import GetAlertsListQuery
from domain.analytics.read_models import ForecastResult
from domain.anomaly.queries import GetAnomalyBandQuery, ListAnomaliesQuery
from domain.anomaly.read_models import AnomalyBandDto, AnomalyPage
from domain.dashboards.overlays import (
    Overlay,
    OverlayCache,
    buckets_after,
    on_grid,
    read_overlay,
)
from domain.dashboards.read_models import (
    AnomalyMark,
    ChangeMark,
    LineData,
    TableRow,
    WidgetData,
)
from domain.dashboards.steps import auto_step, widget_pixels
from domain.dashboards.variables import bind
from domain.dashboards.widgets import SECOND_US, SeriesQuery, Threshold, Widget, WidgetKind
from domain.errors import VigilError
from domain.messagebus import Ask
from domain.metrics.queries import GetMetricSeriesQuery
from domain.metrics.read_models import SeriesData, SeriesResult

__all__ = ["MAX_ALERTS", "color_of", "rate_of", "widget_data"]

MAX_ALERTS = 100
MAX_MARKS = 500  # anomalies marked per query

Values = list[float | None]
Bands = dict[tuple[tuple[str, str], ...], tuple[Values, Values, Values]]  # by series tags
DEFAULT_COLOR = "green"


async def widget_data(
    ask: Ask,
    project: str,
    widget: Widget,
    *,
    start_us: int,
    end_us: int,
    values: Mapping[str, str],
    width_px: int,
    overlays: OverlayCache,
) -> WidgetData:
    """The widget's data; a widget that cannot be answered carries the reason instead."""
    window = _Window(ask, project, start_us, end_us, values, overlays)
    pixels = widget_pixels(widget.layout.w, width_px)
    try:
        if widget.kind is WidgetKind.TIMESERIES:
            return await _timeseries(window, widget, pixels)
        if widget.kind in (WidgetKind.STAT, WidgetKind.GAUGE):
            value = await window.single(widget.queries[0], pixels)
            return WidgetData(widget.id, widget.kind, value=value, color=color_of(widget, value))
        if widget.kind is WidgetKind.TABLE:
            return WidgetData(
                widget.id, widget.kind, rows=await window.rows(widget.queries[0], pixels)
            )
        if widget.kind is WidgetKind.ALERT_LIST:
            query = GetAlertsListQuery(
                project, widget.alert_state, widget.alert_severity, first=MAX_ALERTS
            )
            page = await ask(query)
            return WidgetData(widget.id, widget.kind, alerts=page.items)
        return WidgetData(widget.id, widget.kind)
    except VigilError as exc:
        return WidgetData(widget.id, widget.kind, error=exc.message)


def color_of(widget: Widget, value: float | None) -> str | None:
    """The colour of the highest threshold at or below the value (the base one below all)."""
    if value is None:
        return None
    thresholds: tuple[Threshold, ...] = widget.thresholds
    color = next((t.color for t in thresholds if t.value is None), DEFAULT_COLOR)
    for threshold in thresholds:
        if threshold.value is not None and value >= threshold.value:
            color = threshold.color
    return color


def rate_of(values: list[float | None], step_us: int) -> list[float | None]:
    """Per-second increase between consecutive values; none after a counter reset."""
    rates: list[float | None] = [None] * len(values)
    previous: tuple[int, float] | None = None
    for i, value in enumerate(values):
        if value is None:
            continue
        if previous is not None and value >= previous[1]:
            rates[i] = (value - previous[1]) / ((i - previous[0]) * step_us / SECOND_US)
        previous = (i, value)
    return rates


async def _timeseries(window: _Window, widget: Widget, pixels: int) -> WidgetData:
    """Every query on one time axis: the coarsest step a query sets, else fitted to width.
    A forecast extends the axis past the range by its horizon."""
    steps = [q.step_us for q in widget.queries if q.step_us is not None]
    step = max(steps) if steps else auto_step(window.start_us, window.end_us, pixels)
    timestamps: list[int] = []
    drawn: list[_Drawn] = []
    marks: list[AnomalyMark] = []
    changes: list[ChangeMark] = []
    overlay_error: str | None = None
    for index, query in enumerate(widget.queries):
        result = await window.series(query, step, query.group_by)
        timestamps = result.timestamps_us
        bands: Bands = {}
        if widget.anomalies and not query.rate:
            bands, found = await window.anomalies(query, step)
            marks += _marks(index, query, found)
        overlay = Overlay({}, [])
        wanted = widget.forecast_us is not None or widget.change_points
        if wanted and not query.rate and result.series:
            try:
                overlay = await window.overlay(index, query, step, widget)
            except VigilError as exc:  # too many points for an answer now, say
                overlay_error = overlay_error or exc.message
            changes += overlay.marks
        for series in result.series:
            values = rate_of(series.values, step) if query.rate else series.values
            key = tuple(sorted(series.tags.items()))
            drawn.append(
                _Drawn(
                    index, query.label, series, values, bands.get(key), overlay.forecasts.get(key)
                )
            )
    lines, timestamps = _with_forecasts(drawn, timestamps, step)
    return WidgetData(
        widget.id,
        widget.kind,
        step,
        timestamps,
        lines,
        anomalies=marks,
        change_points=changes,
        overlay_error=overlay_error,
    )


@dataclass(frozen=True, slots=True)
class _Drawn:
    index: int
    label: str
    series: SeriesData
    values: Values
    band: tuple[Values, Values, Values] | None
    forecast: ForecastResult | None


def _with_forecasts(
    drawn: list[_Drawn], timestamps: list[int], step: int
) -> tuple[list[LineData], list[int]]:
    """The lines, and the axis extended to the furthest forecast (every line padded)."""
    extra = 0
    if timestamps:
        end_us = timestamps[-1] + step
        extra = max(
            (buckets_after(d.forecast, end_us, step) for d in drawn if d.forecast), default=0
        )
        timestamps = timestamps + [end_us + i * step for i in range(extra)]
    pad: Values = [None] * extra
    lines = []
    for d in drawn:
        line = LineData(d.index, d.label, d.series.tags, d.values + pad)
        if d.band:
            baseline, lower, upper = (edge + pad for edge in d.band)
            line = replace(line, baseline=baseline, lower=lower, upper=upper)
        if d.forecast:
            line = replace(line, forecast=on_grid(d.forecast, timestamps[0], step, len(timestamps)))
        lines.append(line)
    return lines, timestamps


def _marks(index: int, query: SeriesQuery, page: AnomalyPage) -> list[AnomalyMark]:
    """Each anomaly on the line it belongs to: its series, or its group of `groupBy`."""
    keys = query.group_by
    return [
        AnomalyMark(
            index,
            dict(r.tags) if keys is None else {k: r.tags.get(k, "") for k in keys},
            r.timestamp_us,
            r.value,
            r.score,
            r.explanation,
        )
        for r in page.items
    ]


class _Window:
    """The queries of one dashboard request: its range and variable values."""

    def __init__(
        self,
        ask: Ask,
        project: str,
        start_us: int,
        end_us: int,
        values: Mapping[str, str],
        overlays: OverlayCache,
    ) -> None:
        self.ask = ask
        self.project = project
        self.start_us = start_us
        self.end_us = end_us
        self.values = values
        self.overlays = overlays

    async def series(
        self, query: SeriesQuery, step_us: int | None, group_by: tuple[str, ...] | None
    ) -> SeriesResult:
        result: SeriesResult = await self.ask(
            GetMetricSeriesQuery(
                project=self.project,
                name=query.metric,
                start_us=self.start_us,
                end_us=self.end_us,
                aggregation=query.aggregation,
                step_us=step_us,
                matchers=bind(query, self.values),
                group_by=group_by,
            )
        )
        return result

    async def anomalies(self, query: SeriesQuery, step_us: int) -> tuple[Bands, AnomalyPage]:
        """The band of each series (by its tags) on the chart's buckets, and the anomalies
        of the range; nothing (not an error) where they cannot be had."""
        matchers = bind(query, self.values)
        try:
            band: AnomalyBandDto = await self.ask(
                GetAnomalyBandQuery(
                    self.project, query.metric, self.start_us, self.end_us, step_us, matchers
                )
            )
            page: AnomalyPage = await self.ask(
                ListAnomaliesQuery(
                    self.project,
                    query.metric,
                    matchers,
                    self.start_us,
                    self.end_us,
                    first=MAX_MARKS,
                )
            )
        except VigilError:  # too many series for a band, say: the lines are still drawn
            return {}, AnomalyPage([], False)
        bands = {tuple(sorted(s.tags.items())): (s.baseline, s.lower, s.upper) for s in band.series}
        return bands, page

    async def overlay(
        self, index: int, query: SeriesQuery, step_us: int, widget: Widget
    ) -> Overlay:
        return await read_overlay(
            self.ask,
            self.overlays,
            self.project,
            index,
            query,
            bind(query, self.values),
            (self.start_us, self.end_us, step_us),
            horizon_us=widget.forecast_us,
            change_points=widget.change_points,
        )

    async def single(self, query: SeriesQuery, pixels: int) -> float | None:
        """One value over the whole range (every matching series together)."""
        if query.rate:
            lines = await self._rates(query, pixels, ())
            return _latest(lines[0][1]) if lines else None
        result = await self.series(query, None, ())
        return _finite(result.series[0].values[0]) if result.series else None

    async def rows(self, query: SeriesQuery, pixels: int) -> list[TableRow]:
        """One row per series (or per group of `groupBy`), by tags."""
        if query.rate:
            found = [
                TableRow(tags, _latest(rates))
                for tags, rates in await self._rates(query, pixels, query.group_by)
            ]
        else:
            result = await self.series(query, None, query.group_by)
            found = [TableRow(s.tags, _finite(s.values[0])) for s in result.series]
        return sorted(found, key=lambda row: sorted(row.tags.items()))

    async def _rates(
        self, query: SeriesQuery, pixels: int, group_by: tuple[str, ...] | None
    ) -> list[tuple[dict[str, str], list[float | None]]]:
        step = query.step_us or auto_step(self.start_us, self.end_us, pixels)
        result = await self.series(query, step, group_by)
        return [(s.tags, rate_of(s.values, step)) for s in result.series]


def _latest(values: list[float | None]) -> float | None:
    return next((_finite(v) for v in reversed(values) if v is not None), None)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
