"""Validating raw JSON points: a columnar fast path, and a point-by-point path that names
every bad point when the fast path finds anything wrong."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from domain.errors import BadUserInput, PointError
from domain.metrics.ingest.batch import BatchRejected, IngestLimits, PointBatch
from domain.metrics.ingest.columnar import PointColumns, validate_columns
from domain.metrics.ingest.columns import fast_batch
from domain.metrics.ingest.entries import is_series_entry, series_entries
from domain.metrics.ingest.series import SeriesCache, unhashable_reason

__all__ = ["point_by_point", "validate_points"]


def _timestamp_us(raw: Any, now_us: int) -> int:
    """ISO-8601 text (a zone is required) or epoch milliseconds; absent means now."""
    if raw is None:
        return now_us
    kind = type(raw)
    if kind is int or kind is float:
        if not math.isfinite(raw):
            raise ValueError("timestamp must be finite")
        return round(float(raw) * 1000)
    if kind is str:
        if raw.strip().lstrip("+-").replace(".", "", 1).isdigit():
            raise ValueError(
                f"timestamp {raw!r} is text: epoch milliseconds must be a number, "
                "ISO-8601 text a date such as 2026-12-06T10:00:00Z"
            )
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            raise ValueError("timestamp needs a time zone, such as Z or +00:00")
        return int(moment.timestamp() * 1_000_000)
    raise ValueError("timestamp must be ISO-8601 text or epoch milliseconds")


# Epoch magnitudes of the years 2001 to ~5000 in other units, and how many of each make a
# millisecond (seconds: a thousandth).
_UNITS = (
    (1e9, 1e11, "seconds", 0.001),
    (1e14, 1e17, "microseconds", 1_000),
    (1e17, 1e20, "nanoseconds", 1_000_000),
)


def _unit(raw: Any) -> str:
    """A hint when an epoch number out of range has the magnitude of another unit: seconds
    (what most tools send), or micro- or nanoseconds, for milliseconds."""
    if type(raw) not in (int, float):
        return ""
    for low, high, unit, per_milli in _UNITS:
        if low <= abs(raw) < high:
            millis = round(raw * 1000) if per_milli < 1 else round(raw / per_milli)
            return f"; epoch timestamps are in milliseconds: {raw} looks like {unit}, send {millis}"
    return ""


def validate_points(
    project: str,
    raw_points: Any,
    *,
    now_us: int,
    limits: IngestLimits,
    cache: SeriesCache | None = None,
) -> PointBatch:
    """Turn raw points into a PointBatch, or raise BatchRejected naming every bad one.

    Raw points are a JSON list of points, a JSON list of series entries (the columnar
    form, columnar.py), or a collector's PointColumns.
    """
    if cache is None:  # not `or`: an empty cache is falsy
        cache = SeriesCache()
    if isinstance(raw_points, PointColumns):
        return validate_columns(project, raw_points, now_us=now_us, limits=limits, cache=cache)
    if not isinstance(raw_points, list):
        raise BadUserInput("points must be a list of point objects")
    if not raw_points:
        raise BadUserInput("a batch needs at least one point")
    if is_series_entry(raw_points[0]):
        return series_entries(project, raw_points, now_us=now_us, limits=limits, cache=cache)
    if len(raw_points) > limits.max_batch:
        raise BadUserInput(f"a batch holds at most {limits.max_batch} points")

    fast = fast_batch(project, raw_points, now_us=now_us, limits=limits, cache=cache)
    if fast is not None:
        return fast
    return point_by_point(project, raw_points, now_us=now_us, limits=limits, cache=cache)


def point_by_point(
    project: str, raw_points: list[Any], *, now_us: int, limits: IngestLimits, cache: SeriesCache
) -> PointBatch:
    """The slow path: every point on its own, so that each bad one is named with its reason."""
    earliest = now_us - limits.retention_seconds * 1_000_000
    latest = now_us + limits.max_future_seconds * 1_000_000
    batch = PointBatch(project)
    known: dict[tuple[Any, ...], int] = {}
    slots_by_id: dict[int, int] = {}
    errors: list[PointError] = []
    series_index, stamps, values = batch.series_index, batch.timestamps_us, batch.values
    isfinite = math.isfinite

    for index, raw in enumerate(raw_points):
        try:
            if type(raw) is not dict:
                raise ValueError("a point must be an object")
            value: Any = raw.get("value")
            kind = type(value)
            if kind is float:
                if not isfinite(value):
                    raise ValueError("value must be finite (no NaN or Infinity)")
            elif kind is int:
                value = float(value)
                if not isfinite(value):
                    raise ValueError("value out of range")
            else:
                raise ValueError("value is required and must be a number")
            given = raw.get("timestamp")
            stamp = _timestamp_us(given, now_us)
            if stamp < earliest:
                raise ValueError("timestamp is older than the retention period" + _unit(given))
            if stamp > latest:
                raise ValueError(
                    f"timestamp is more than {limits.max_future_seconds} s in the future"
                    + _unit(given)
                )
            name: Any = raw.get("name")
            if type(name) is not str:
                raise ValueError("name is required and must be text")
            tags = raw.get("tags") or {}
            if type(tags) is not dict:
                raise ValueError("tags must be an object of text values")
            # type, category and source are in the key so that every point's are checked
            key = (
                name,
                tuple(sorted(tags.items())) if tags else (),
                raw.get("type"),
                raw.get("category"),
                raw.get("source"),
            )
            try:
                slot = known.get(key)
            except TypeError:
                raise ValueError(unhashable_reason(tags)) from None
            if slot is None:
                spec = cache.spec(project, key, limits)
                slot = slots_by_id.get(spec.id)
                if slot is None:
                    slot = slots_by_id[spec.id] = len(batch.series)
                    batch.series.append(spec)
                elif batch.series[slot] != spec:  # not only another spelling (NFD) of it
                    raise ValueError(
                        "type, category or source differs from an earlier point of this series"
                    )
                known[key] = slot
        except (ValueError, TypeError, OverflowError) as exc:
            errors.append(PointError(index, str(exc)))
            continue
        series_index.append(slot)
        stamps.append(stamp)
        values.append(value)

    if errors:
        raise BatchRejected(errors)
    return batch
