"""Contract test data: points near the current time, in batches shaped as ingest makes them."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from domain.metrics.ingest import PointBatch, SeriesSpec, series_id
from domain.metrics.model import Aggregation, MetricType

__all__ = ["MINUTE", "NOW_US", "SECOND", "Point", "point_batch", "reference", "sid_of"]

SECOND = 1_000_000
MINUTE = 60 * SECOND
# An hour ago, on a whole hour: recent enough for any retention, aligned for bucket tests.
NOW_US = time.time_ns() // 1000 // (60 * MINUTE) * (60 * MINUTE) - 60 * MINUTE


@dataclass(frozen=True, slots=True)
class Point:
    name: str
    tags: dict[str, str]
    ts: int
    value: float
    type: MetricType = MetricType.GAUGE
    category: str = ""
    source: str = ""


def sid_of(project: str, name: str, tags: dict[str, str]) -> int:
    return series_id(project, name, tuple(sorted(tags.items())))


def point_batch(project: str, points: Iterable[Point]) -> PointBatch:
    """The batch `domain.ingest.validate_points` would build from these points."""
    batch = PointBatch(project)
    slots: dict[int, int] = {}
    for p in points:
        sid = sid_of(project, p.name, p.tags)
        slot = slots.get(sid)
        if slot is None:
            slot = slots[sid] = len(batch.series)
            tags = dict(sorted(p.tags.items()))
            batch.series.append(SeriesSpec(sid, p.name, tags, p.type, p.category, p.source))
        batch.series_index.append(slot)
        batch.timestamps_us.append(p.ts)
        batch.values.append(p.value)
    return batch


def reference(
    points: Iterable[Point],
    *,
    start: int,
    end: int,
    step: int | None,
    aggregation: Aggregation,
    group_by: tuple[str, ...] | None,
) -> tuple[list[int], dict[tuple[tuple[str, str], ...], list[float | None]]]:
    """The chart a store must answer, computed with numpy: bucket starts and values by tags."""
    first = start if step is None else start - start % step
    width = end - first if step is None else step
    starts = list(range(first, end, width))
    cells: dict[tuple[tuple[str, str], ...], dict[int, list[tuple[int, float]]]] = {}
    for p in points:
        if not start <= p.ts < end:
            continue
        if group_by is None:
            key = tuple(sorted(p.tags.items()))
        else:
            key = tuple(sorted((k, p.tags.get(k, "")) for k in group_by))
        cells.setdefault(key, {}).setdefault((p.ts - first) // width, []).append((p.ts, p.value))
    return starts, {
        key: [_reduce(cell[i], aggregation) if i in cell else None for i in range(len(starts))]
        for key, cell in cells.items()
    }


def _reduce(cell: list[tuple[int, float]], aggregation: Aggregation) -> float:
    stamps = np.array([ts for ts, _ in cell])
    values = np.array([v for _, v in cell])
    if aggregation.quantile is not None:
        return float(np.percentile(values, aggregation.quantile * 100))
    if aggregation is Aggregation.LAST:
        return float(values[np.argmax(stamps)])
    if aggregation is Aggregation.COUNT:
        return float(len(values))
    reducer = {"avg": np.mean, "min": np.min, "max": np.max, "sum": np.sum}[aggregation.value]
    return float(reducer(values))
