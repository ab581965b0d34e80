"""Validating a batch of raw points into a columnar batch the stores write in one go.

This is the ingest hot path: one pass over the points, with per-series work (tag checks,
series ids) done once per distinct series rather than once per point.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.errors import BadUserInput, PointError
from domain.metrics import MetricType

__all__ = [
    "BatchRejected",
    "IngestLimits",
    "PointBatch",
    "SeriesCache",
    "SeriesSpec",
    "decode_point_id",
    "encode_point_id",
    "series_id",
    "validate_points",
]

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:.\-]*")
_TAG_KEY = re.compile(r"[a-zA-Z_][a-zA-Z0-9_.\-]*")
_TYPES = {t.value: t for t in MetricType}
_HEX = re.compile(r"[0-9a-f]+")


@dataclass(frozen=True, slots=True)
class IngestLimits:
    max_batch: int = 10_000
    max_name_length: int = 200
    max_tags: int = 32
    max_tag_key_length: int = 100
    max_tag_value_length: int = 200
    max_text_length: int = 200  # category and source
    max_future_seconds: int = 600
    retention_seconds: int = 30 * 86_400


class BatchRejected(BadUserInput):
    """A batch with bad points; nothing of it was stored."""

    def __init__(self, errors: list[PointError]) -> None:
        shown = "; ".join(f"#{e.index}: {e.reason}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        super().__init__(
            f"{len(errors)} point(s) rejected, nothing stored: {shown}{more}",
            errors=[{"index": e.index, "reason": e.reason} for e in errors],
        )
        self.errors = errors


@dataclass(frozen=True, slots=True)
class SeriesSpec:
    id: int
    name: str
    tags: dict[str, str]
    type: MetricType
    category: str
    source: str


@dataclass(slots=True)
class PointBatch:
    """Points in columns: `series_index[i]` points into `series` for point i."""

    project: str
    series: list[SeriesSpec] = field(default_factory=list)
    series_index: list[int] = field(default_factory=list)
    timestamps_us: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.values)

    def point_ids(self) -> list[str]:
        series = self.series
        return [
            encode_point_id(series[s].id, ts)
            for s, ts in zip(self.series_index, self.timestamps_us, strict=True)
        ]


def series_id(project: str, name: str, tags: tuple[tuple[str, str], ...]) -> int:
    """A stable 63-bit id for a series: the same in every store and after every restart."""
    text = "\x1f".join([project, name, *(f"{k}\x1e{v}" for k, v in tags)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest()) >> 1


def encode_point_id(sid: int, timestamp_us: int) -> str:
    """A point is named by its series and its timestamp, so no per-point id is stored."""
    return f"{sid:016x}{timestamp_us:014x}"


def decode_point_id(point_id: str) -> tuple[int, int] | None:
    if len(point_id) != 30 or not _HEX.fullmatch(point_id):
        return None  # int(x, 16) alone would also take "0x", signs, "_" and spaces
    return int(point_id[:16], 16), int(point_id[16:], 16)


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
        moment = datetime.fromisoformat(raw)
        if moment.tzinfo is None:
            raise ValueError("timestamp needs a time zone, such as Z or +00:00")
        return int(moment.timestamp() * 1_000_000)
    raise ValueError("timestamp must be ISO-8601 text or epoch milliseconds")


def _check_series(
    raw: dict[str, Any], name: Any, tags: Any, limits: IngestLimits
) -> tuple[MetricType, str, str]:
    """Checks that need doing once per series; raises ValueError with the reason."""
    if type(name) is not str or not name:
        raise ValueError("name is required and must be text")
    if len(name) > limits.max_name_length:
        raise ValueError(f"name longer than {limits.max_name_length} characters")
    if _NAME.fullmatch(name) is None:
        raise ValueError(f"name {name!r} has characters outside [a-zA-Z0-9_:.-]")
    if len(tags) > limits.max_tags:
        raise ValueError(f"more than {limits.max_tags} tags")
    for key, value in tags.items():
        if len(key) > limits.max_tag_key_length or _TAG_KEY.fullmatch(key) is None:
            raise ValueError(f"tag key {key[:40]!r} is invalid or too long")
        if type(value) is not str:
            raise ValueError(f"tag {key!r} must have a text value")
        if len(value) > limits.max_tag_value_length:
            raise ValueError(f"tag {key!r} value longer than {limits.max_tag_value_length}")
    type_ = _TYPES.get(raw.get("type") or "gauge")
    if type_ is None:
        raise ValueError(f"type must be one of {', '.join(_TYPES)}")
    category = raw.get("category") or ""
    source = raw.get("source") or ""
    if type(category) is not str or type(source) is not str:
        raise ValueError("category and source must be text")
    if len(category) > limits.max_text_length or len(source) > limits.max_text_length:
        raise ValueError(f"category or source longer than {limits.max_text_length}")
    return type_, category, source


def _unhashable(tags: dict[Any, Any]) -> str:
    for key, value in tags.items():
        if type(value) is not str:
            return f"tag {key!r} must have a text value"
    return "type, category and source must be text"


class SeriesCache:
    """Series already checked, by project and raw key, so that a collector sending the same
    1,000 series in every batch pays for the checks and the hash once, not per batch
    (they were half of validation's time; docs/performance.md). Bounded: when full, it
    starts again empty."""

    def __init__(self, max_entries: int = 200_000) -> None:
        self.max_entries = max_entries
        self._specs: dict[tuple[Any, ...], SeriesSpec] = {}

    def __len__(self) -> int:
        return len(self._specs)

    def spec(
        self, project: str, raw: dict[str, Any], key: tuple[Any, ...], limits: IngestLimits
    ) -> SeriesSpec:
        cache_key = (project, *key)
        spec = self._specs.get(cache_key)
        if spec is None:
            name, tag_items = key[0], key[1]
            type_, category, source = _check_series(raw, name, raw.get("tags") or {}, limits)
            sid = series_id(project, name, tag_items)
            spec = SeriesSpec(sid, name, dict(tag_items), type_, category, source)
            if len(self._specs) >= self.max_entries:
                self._specs.clear()
            self._specs[cache_key] = spec
        return spec


def validate_points(
    project: str,
    raw_points: Any,
    *,
    now_us: int,
    limits: IngestLimits,
    cache: SeriesCache | None = None,
) -> PointBatch:
    """Turn raw JSON points into a PointBatch, or raise BatchRejected naming every bad one."""
    if not isinstance(raw_points, list):
        raise BadUserInput("points must be a list of point objects")
    if not raw_points:
        raise BadUserInput("a batch needs at least one point")
    if len(raw_points) > limits.max_batch:
        raise BadUserInput(f"a batch holds at most {limits.max_batch} points")

    earliest = now_us - limits.retention_seconds * 1_000_000
    latest = now_us + limits.max_future_seconds * 1_000_000
    batch = PointBatch(project)
    known: dict[tuple[Any, ...], int] = {}
    slots_by_id: dict[int, int] = {}
    if cache is None:  # not `or`: an empty cache is falsy
        cache = SeriesCache()
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
            stamp = _timestamp_us(raw.get("timestamp"), now_us)
            if stamp < earliest:
                raise ValueError("timestamp is older than the retention period")
            if stamp > latest:
                raise ValueError(
                    f"timestamp is more than {limits.max_future_seconds} s in the future"
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
                raise ValueError(_unhashable(tags)) from None
            if slot is None:
                spec = cache.spec(project, raw, key, limits)
                if spec.id in slots_by_id:
                    raise ValueError(
                        "type, category or source differs from an earlier point of this series"
                    )
                slot = slots_by_id[spec.id] = len(batch.series)
                batch.series.append(spec)
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
