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
from dataclasses import dataclass, replace

import numpy as np

from domain.analytics.model import SeriesSelector
from domain.analytics.ports import Foreground
from domain.analytics.series import FloatArray, Grid
from domain.buckets import bucket_count
from domain.errors import BadUserInput
from domain.messagebus import Ask
from domain.metrics.queries import GetMetricSeriesQuery
from domain.metrics.read_models import SeriesResult

__all__ = [
    "BACKGROUND_PAUSE",
    "CHUNK_VALUES",
    "MOST_YIELDS",
    "NAME_TAG",
    "QUIET_WAIT_SECONDS",
    "TooLarge",
    "background",
    "read_grids",
]

CHUNK_VALUES = 100_000  # values per slice
FIRST_SLICE = 256  # buckets of the first slice, before the number of series is known
MAX_SLICE = 10_000  # under the chart query's own limit (domain.buckets.MAX_BUCKETS)
NAME_TAG = "__name__"  # set on grids read with `named=True` (CORRELATION reads many metrics)
# A job's reads leave the store this share of the time they take to everything else: a
# 1,000-series week read flat out kept both cores busy for ~5 s and doubled the latency of
# every ingest acknowledgement meanwhile (docs/performance.md, "Analytics").
BACKGROUND_PAUSE = 1.0
# And a slice starts once no request is in flight, waiting at most this long: a slice
# that overlaps an ingest request slows it, one between requests does not.
QUIET_WAIT_SECONDS = 0.25
# A slice a request comes in to is abandoned and read again, this many times at most.
MOST_YIELDS = 3


@dataclass(frozen=True, slots=True)
class _Background:
    """Set for a job's task (`background`)."""

    foreground: Foreground | None  # the requests its reads give way to, if known


_background: ContextVar[_Background | None] = ContextVar("analytics_background", default=None)


def background(foreground: Foreground | None = None) -> None:
    """Mark the reads of the current task (a job's) as background work: each slice is
    followed by a pause of BACKGROUND_PAUSE times its own duration, starts once
    `foreground` has no request in flight (QUIET_WAIT_SECONDS at most), and is read again
    if a request comes in meanwhile (MOST_YIELDS times at most)."""
    _background.set(_Background(foreground))


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
    lines = _Lines(buckets, max_lines=max(0, (max_points - read_before) // max(1, buckets)))
    slice_buckets = FIRST_SLICE
    at = first
    marked = _background.get()
    pause = BACKGROUND_PAUSE if marked else 0.0
    foreground = marked.foreground if marked else None
    while at < end_us:
        until = min(end_us, at + slice_buckets * step_us)
        query = GetMetricSeriesQuery(
            project=project,
            name=selector.metric,
            start_us=at,
            end_us=until,
            aggregation=selector.aggregation,
            step_us=step_us,
            matchers=selector.matchers,
            group_by=selector.group_by,
        )
        began = time.monotonic()
        if foreground is None:
            result: SeriesResult = await ask(query)
        else:
            result, began = await _read_giving_way(ask, query, foreground)
        if result.series:
            if not lines.columns([series.tags for series in result.series]):
                raise TooLarge(read_before + (lines.max_lines + 1) * buckets, max_points)
            lines.put((at - first) // step_us, result.as_matrix())
        slice_buckets = max(64, min(MAX_SLICE, CHUNK_VALUES // max(1, len(lines))))
        at = until
        if pause:
            await asyncio.sleep(pause * (time.monotonic() - began))
    grids = []
    for tags, values in await lines.lines():
        if named:
            tags[NAME_TAG] = selector.metric
        grids.append(Grid(first, step_us, values, tags))
    return grids


async def _read_giving_way(
    ask: Ask, query: GetMetricSeriesQuery, foreground: Foreground
) -> tuple[SeriesResult, float]:
    """A job's slice, started once no request is in flight (QUIET_WAIT_SECONDS at most)
    and abandoned if one comes in before it is read: cancelling the read interrupts it in
    the store, and it starts again in the next gap. The MOST_YIELDS+1-th try runs to its
    end whatever comes in, so a job still reads under a steady stream of requests.
    The answer, and when the try that read it began."""
    for tries_left in range(MOST_YIELDS, -1, -1):
        await foreground.quiet(QUIET_WAIT_SECONDS)
        began = time.monotonic()
        if not tries_left:
            break
        reading = asyncio.ensure_future(ask(query))
        arrived = asyncio.ensure_future(foreground.arrival())
        try:
            await asyncio.wait((reading, arrived), return_when=asyncio.FIRST_COMPLETED)
        finally:
            arrived.cancel()
            if not reading.done():
                reading.cancel()
        await asyncio.wait((reading,))  # an abandoned read ends once interrupted
        if not reading.cancelled():
            result: SeriesResult = reading.result()
            return result, began
    return await ask(query), began


class _Lines:
    """The lines read so far, found by their tags: the columns of one matrix, a row per
    bucket, so each slice fills a contiguous band of rows.

    A slice's lines come as a matrix too (SeriesResult.as_matrix), in the same order
    slice after slice while the same series answer, so a slice is one block copy, not a
    visit per line. Bucket-major, the memory is touched band by band as slices come;
    line-major, the first slice touched every line's row, and the page faults of a week
    of 1,000 series (80 MB) held the event loop 0.1-0.2 s at once.
    """

    def __init__(self, buckets: int, *, max_lines: int) -> None:
        self._buckets = buckets
        self.max_lines = max_lines
        self._index: dict[tuple[tuple[str, str], ...], int] = {}
        self._matrix = np.empty((buckets, 0))
        self._filled = 0  # rows (buckets) [0, _filled) hold values or NaN in every line
        self._last: list[dict[str, str]] = []
        self._columns = np.empty(0, dtype=np.intp)
        self._whole = False  # the last slice had every line, in column order

    def __len__(self) -> int:
        return len(self._index)

    def columns(self, tags: list[dict[str, str]]) -> bool:
        """Find (or add) the column of each line; False, and nothing added, if there
        would be more than `max_lines`."""
        if tags == self._last:
            return True
        keys = [tuple(sorted(t.items())) for t in tags]
        new = dict.fromkeys(key for key in keys if key not in self._index)
        old = len(self._index)
        if old + len(new) > self.max_lines:
            return False
        for key in new:
            self._index[key] = len(self._index)
        if len(self._index) > self._matrix.shape[1]:
            room = min(self.max_lines, max(len(self._index), 2 * self._matrix.shape[1]))
            grown = np.empty((self._buckets, room))
            grown[: self._filled, :old] = self._matrix[: self._filled, :old]
            self._matrix = grown
        self._matrix[: self._filled, old : len(self._index)] = np.nan  # empty until now
        self._last = tags
        self._columns = np.fromiter((self._index[k] for k in keys), np.intp, len(keys))
        self._whole = len(keys) == len(self._index) and bool(
            (self._columns == np.arange(len(keys))).all()
        )
        return True

    def put(self, offset: int, block: FloatArray) -> None:
        """The slice's lines (a row each, as `columns` last placed them) from bucket
        `offset`; lines the slice lacks are NaN there."""
        end = offset + block.shape[1]
        count = len(self._index)
        if self._whole:
            self._matrix[offset:end, :count] = block.T
        else:
            self._matrix[offset:end, :count] = np.nan
            self._matrix[offset:end, self._columns] = block.T
        self._filled = max(self._filled, end)

    async def lines(self) -> list[tuple[dict[str, str], FloatArray]]:
        """Each line's tags and values, in the order of the tags."""
        self._matrix[self._filled :, : len(self._index)] = np.nan  # after the last slice
        # Line-major for the methods: an 80 MB copy, on a thread (numpy lets go of the GIL).
        rows = await asyncio.to_thread(np.ascontiguousarray, self._matrix[:, : len(self._index)].T)
        return [(dict(key), rows[column]) for key, column in sorted(self._index.items())]


def narrowed(selector: SeriesSelector, group_by: tuple[str, ...] | None) -> SeriesSelector:
    return replace(selector, group_by=group_by)
