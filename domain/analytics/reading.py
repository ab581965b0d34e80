"""How analytics reads metric data: through the metrics feature's chart query, in pieces.

`read_grids` is the one place every kind reads series: when storage tiers exist, the
choice of tier (raw points or a rollup, by range and step) goes here and nowhere else.
A range is read in time slices of about CHUNK_VALUES values, so a 1,000-series job never
holds one enormous answer, and each slice goes through the same checks as any caller's
`metricSeries`.
"""

from __future__ import annotations

import asyncio
import time
from contextvars import ContextVar
from dataclasses import replace

import numpy as np

from domain.analytics.model import SeriesSelector
from domain.analytics.series import FloatArray, Grid
from domain.buckets import bucket_count
from domain.errors import BadUserInput
from domain.messagebus import Ask
from domain.metrics.queries import GetMetricSeriesQuery
from domain.metrics.read_models import SeriesResult

__all__ = ["BACKGROUND_PAUSE", "CHUNK_VALUES", "NAME_TAG", "TooLarge", "background", "read_grids"]

CHUNK_VALUES = 100_000  # values per slice
FIRST_SLICE = 256  # buckets of the first slice, before the number of series is known
MAX_SLICE = 10_000  # under the chart query's own limit (domain.buckets.MAX_BUCKETS)
NAME_TAG = "__name__"  # set on grids read with `named=True` (CORRELATION reads many metrics)
# A job's reads leave the store this share of the time they take to everything else: a
# 1,000-series week read flat out kept both cores busy for ~5 s and doubled the latency of
# every ingest acknowledgement meanwhile (docs/performance.md, "Analytics").
BACKGROUND_PAUSE = 1.0
_pause: ContextVar[float] = ContextVar("analytics_read_pause", default=0.0)


def background() -> None:
    """Mark the reads of the current task (a job's) as background work: each slice is
    followed by a pause of BACKGROUND_PAUSE times its own duration."""
    _pause.set(BACKGROUND_PAUSE)


class TooLarge(BadUserInput):
    """The analysis reads more than it may (series times buckets, as `points`)."""

    def __init__(self, points: int, limit: int, hint: str = "") -> None:
        text = f"this analysis reads at least {points:,} points, above the limit of {limit:,}"
        super().__init__(f"{text}; {hint}" if hint else text, points=points, limit=limit)
        self.points = points
        self.limit = limit


async def read_grids(
    ask: Ask,
    project: str,
    selector: SeriesSelector,
    *,
    start_us: int,
    end_us: int,
    step_us: int,
    max_points: int,
    named: bool = False,
    read_before: int = 0,
) -> list[Grid]:
    """One grid per series (or per group of `selector.group_by`) over [start, end), buckets
    aligned to multiples of the step, NaN where a bucket is empty. Raises TooLarge as soon
    as `read_before` plus the series found times the buckets passes `max_points`."""
    first = start_us - start_us % step_us
    buckets = bucket_count(start_us, end_us, step_us)
    lines: dict[tuple[tuple[str, str], ...], FloatArray] = {}
    slice_buckets = FIRST_SLICE
    at = first
    pause = _pause.get()
    while at < end_us:
        until = min(end_us, at + slice_buckets * step_us)
        began = time.monotonic()
        result: SeriesResult = await ask(
            GetMetricSeriesQuery(
                project=project,
                name=selector.metric,
                start_us=at,
                end_us=until,
                aggregation=selector.aggregation,
                step_us=step_us,
                matchers=selector.matchers,
                group_by=selector.group_by,
            )
        )
        offset = (at - first) // step_us
        for series in result.series:
            key = tuple(sorted(series.tags.items()))
            values = lines.get(key)
            if values is None:
                if read_before + (len(lines) + 1) * buckets > max_points:
                    raise TooLarge(read_before + (len(lines) + 1) * buckets, max_points)
                values = lines[key] = np.full(buckets, np.nan)
            chunk = series.array()  # NaN where a bucket is empty
            values[offset : offset + len(chunk)] = chunk
        slice_buckets = max(64, min(MAX_SLICE, CHUNK_VALUES // max(1, len(lines))))
        at = until
        if pause:
            await asyncio.sleep(pause * (time.monotonic() - began))
    grids = []
    for key, values in sorted(lines.items()):
        tags = dict(key)
        if named:
            tags[NAME_TAG] = selector.metric
        grids.append(Grid(first, step_us, values, tags))
    return grids


def narrowed(selector: SeriesSelector, group_by: tuple[str, ...] | None) -> SeriesSelector:
    return replace(selector, group_by=group_by)
