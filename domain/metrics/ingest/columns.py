"""The fast path of validation: the whole batch checked column by column.

Most batches are clean, so they are checked with list comprehensions and numpy instead of
a Python loop per point; per-series checks come from the SeriesCache. Anything unusual
answers None, and the point-by-point path then finds and names every bad point.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from domain.metrics.ingest.batch import IngestLimits, PointBatch, SeriesSpec
from domain.metrics.ingest.series import SeriesCache, SeriesKeyRaw

__all__ = ["fast_batch", "timestamps_us"]

_NUMBERS = frozenset({float, int})


def fast_batch(
    project: str,
    points: list[Any],
    *,
    now_us: int,
    limits: IngestLimits,
    cache: SeriesCache,
) -> PointBatch | None:
    """The batch, if every point is good; None if any point needs a closer look."""
    try:
        return _columns(project, points, now_us, limits, cache)
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError):
        return None


def _columns(
    project: str, points: list[Any], now_us: int, limits: IngestLimits, cache: SeriesCache
) -> PointBatch | None:
    values = [p["value"] for p in points]
    if not set(map(type, values)) <= _NUMBERS:
        return None
    column = np.array(values, dtype=np.float64)
    if not np.isfinite(column).all():
        return None
    stamps = timestamps_us([p.get("timestamp") for p in points], now_us)
    if stamps is None:
        return None
    earliest = now_us - limits.retention_seconds * 1_000_000
    latest = now_us + limits.max_future_seconds * 1_000_000
    if len(stamps) and (stamps.min() < earliest or stamps.max() > latest):
        return None

    keys: list[SeriesKeyRaw] = list(
        zip(
            [p["name"] for p in points],
            [tuple(t.items()) if t else () for t in (p.get("tags") for p in points)],
            [p.get("type") for p in points],
            [p.get("category") for p in points],
            [p.get("source") for p in points],
            strict=True,
        )
    )
    local: dict[SeriesKeyRaw, int] = {}
    local_index = [local.setdefault(key, len(local)) for key in keys]
    series: list[SeriesSpec] = []
    slot_of: list[int] = []
    slots_by_id: dict[int, int] = {}
    for key in local:
        spec = cache.spec(project, key, limits)
        slot = slots_by_id.get(spec.id)
        if slot is None:
            slot = slots_by_id[spec.id] = len(series)
            series.append(spec)
        elif series[slot] != spec:  # same series, other type, category or source
            return None
        slot_of.append(slot)
    return PointBatch(
        project,
        series=series,
        series_index=[slot_of[i] for i in local_index],
        timestamps_us=stamps.tolist(),
        values=column.tolist(),
    )


def timestamps_us(raw: list[Any], now_us: int) -> np.ndarray[Any, np.dtype[np.int64]] | None:
    """Microseconds, with the same rounding as the point-by-point path, or None."""
    kinds = set(map(type, raw))
    if kinds <= _NUMBERS:
        millis = np.array(raw, dtype=np.float64)
        # Beyond ~1e15 ms (micro- or nanoseconds sent as milliseconds) the microseconds
        # overflow int64: the point-by-point path refuses those and names their unit.
        if not np.isfinite(millis).all() or (len(millis) and np.abs(millis).max() > 1e15):
            return None
        return np.rint(millis * 1000).astype(np.int64)
    if kinds == {type(None)}:
        return np.full(len(raw), now_us, dtype=np.int64)
    if kinds == {str}:
        moments = [datetime.fromisoformat(text) for text in raw]
        if any(m.tzinfo is None for m in moments):
            return None
        return np.array([int(m.timestamp() * 1_000_000) for m in moments], dtype=np.int64)
    return None
