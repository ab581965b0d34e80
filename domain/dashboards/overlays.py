"""Analytics drawn over a time series widget: each line's forecast past the range, and the
change points within it. Both are the synchronous `analytics` query (fitted in a worker
process, refused above its size and time limits), on the chart's own buckets.

A live dashboard reads its widgets every tick, and every viewer of it does; a fit changes
only when a new bucket starts. So fits are kept by what they read, up to the bucket the
range ends in (`OverlayCache`), and viewers asking at once share one fit.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass

from domain.analytics.model import AnalyticsInput, SeriesSelector
from domain.analytics.queries import GetAnalyticsQuery
from domain.analytics.read_models import (
    AnalysisResult,
    AnalyticsKind,
    ChangePointsResult,
    ForecastResult,
)
from domain.dashboards.read_models import ChangeMark, Forecast
from domain.dashboards.widgets import SeriesQuery
from domain.matchers import TagMatcher
from domain.messagebus import Ask

__all__ = ["Overlay", "OverlayCache", "TagsKey", "buckets_after", "on_grid", "read_overlay"]

TagsKey = tuple[tuple[str, str], ...]  # a line's tags, sorted


@dataclass(frozen=True, slots=True)
class Overlay:
    """What one query's lines get: a forecast by line, and the change marks."""

    forecasts: dict[TagsKey, ForecastResult]
    marks: list[ChangeMark]


class OverlayCache:
    """The latest fits by what they read; a fit asked for while it runs is awaited, not
    started again. A failed fit is not kept."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._fits: OrderedDict[Hashable, asyncio.Future[AnalysisResult]] = OrderedDict()

    async def fit(
        self, key: Hashable, compute: Callable[[], Awaitable[AnalysisResult]]
    ) -> AnalysisResult:
        found = self._fits.get(key)
        if found is not None:
            self._fits.move_to_end(key)
            return await asyncio.shield(found)
        future: asyncio.Future[AnalysisResult] = asyncio.get_running_loop().create_future()
        self._fits[key] = future
        while len(self._fits) > self.size:
            self._fits.popitem(last=False)
        try:
            result = await compute()
        except BaseException as exc:
            self._fits.pop(key, None)
            if not future.done():
                future.set_exception(exc)
                future.exception()  # retrieved: nobody else may be waiting
            raise
        future.set_result(result)
        return result


async def read_overlay(
    ask: Ask,
    cache: OverlayCache,
    project: str,
    index: int,
    query: SeriesQuery,
    matchers: tuple[TagMatcher, ...],
    span: tuple[int, int, int],
    *,
    horizon_us: int | None,
    change_points: bool,
) -> Overlay:
    """The forecast (when `horizon_us` is set) and the change points (when asked) of the
    lines of query number `index`; `span` is the chart's (start, end, step)."""
    start_us, end_us, step_us = span
    selector = SeriesSelector(query.metric, matchers, query.group_by, query.aggregation)
    buckets = (start_us // step_us, -(-end_us // step_us), step_us)

    async def analysis(kind: AnalyticsKind, spec: AnalyticsInput) -> AnalysisResult:
        key = (project, kind, selector, buckets, spec.horizon_us)
        found: AnalysisResult = await cache.fit(
            key, lambda: ask(GetAnalyticsQuery(project, kind, spec))
        )
        return found

    async def forecasts() -> dict[TagsKey, ForecastResult]:
        if horizon_us is None:
            return {}
        spec = AnalyticsInput(selector, start_us, end_us, step_us, horizon_us=horizon_us)
        found = await analysis(AnalyticsKind.FORECAST, spec)
        results = [ForecastResult.from_dict(item) for item in found.items]
        return {tuple(sorted(r.tags.items())): r for r in results}

    async def marks() -> list[ChangeMark]:
        if not change_points:
            return []
        found = await analysis(AnalyticsKind.CHANGE_POINTS, AnalyticsInput(selector, *span))
        results = [ChangePointsResult.from_dict(item) for item in found.items]
        return [
            ChangeMark(
                index,
                dict(shifts.tags),
                point.time_us,
                point.change.value,
                point.mean_before,
                point.mean_after,
                [mark.summary for mark in point.audit],
            )
            for shifts in results
            for point in shifts.points
        ]

    # Both fits at once, each in a worker process.
    fitted, marked = await asyncio.gather(forecasts(), marks())
    return Overlay(fitted, marked)


def on_grid(result: ForecastResult, first_us: int, step_us: int, length: int) -> Forecast:
    """The forecast on the chart's buckets starting at `first_us`: None before it starts."""
    offset = (result.start_us - first_us) // step_us

    def placed(values: tuple[float, ...]) -> list[float | None]:
        out: list[float | None] = [None] * length
        for i, value in enumerate(values):
            if 0 <= offset + i < length:
                out[offset + i] = value
        return out

    return Forecast(
        placed(result.mean),
        placed(result.lower80),
        placed(result.upper80),
        placed(result.lower95),
        placed(result.upper95),
        result.model.value,
        result.scores.mase,
        result.scores.coverage95,
    )


def buckets_after(result: ForecastResult, end_us: int, step_us: int) -> int:
    """How many buckets past `end_us` the forecast reaches."""
    last_us = result.start_us + len(result.mean) * step_us
    return max(0, -(-(last_us - end_us) // step_us))
