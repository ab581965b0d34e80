"""The columnar form of a batch: series with arrays of timestamps and values, checked with
numpy as whole columns, never as one dict per point.

Two ways in. Collectors hand `PointColumns` (the series of a request and, per point, the
position of its series, its timestamp and its value, as numpy arrays), so a decoded body
reaches the store without a Python object per point. `createMetrics` may send a
`PointBatch` of series entries, `{"name", "tags", "timestamps": [...], "values": [...]}`,
one per series, which entries.py turns into the same columns.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from domain.errors import BadUserInput, PointError
from domain.metrics.ingest.batch import (
    BatchArrays,
    BatchRejected,
    IngestLimits,
    PointBatch,
    SeriesSpec,
)
from domain.metrics.ingest.series import SeriesCache

__all__ = ["ColumnSeries", "PointColumns", "SpecAt", "assemble", "validate_columns"]

_NUMBERS = frozenset({float, int})


class ColumnSeries(Protocol):
    """A series of `PointColumns`: a collector's decoded series fits as it is."""

    @property
    def name(self) -> str: ...

    @property
    def tags(self) -> Mapping[str, str]: ...

    @property
    def type(self) -> str: ...


@dataclass(frozen=True, slots=True)
class PointColumns:
    """Point i is `values[i]` at `timestamps_us[i]` of `series[series_index[i]]`.

    `category` and `source` apply to every series (a collector names its protocol).
    """

    series: Sequence[ColumnSeries]
    series_index: npt.NDArray[np.int64]
    timestamps_us: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]
    category: str = ""
    source: str = ""

    def __len__(self) -> int:
        return len(self.values)


def validate_columns(
    project: str,
    columns: PointColumns,
    *,
    now_us: int,
    limits: IngestLimits,
    cache: SeriesCache,
) -> PointBatch:
    """The batch, or BatchRejected naming every bad point by its position in the columns."""
    count = len(columns.values)
    if not len(columns.series_index) == len(columns.timestamps_us) == count:
        raise BadUserInput("the columns need as many series indexes, timestamps and values")
    series, category, source = columns.series, columns.category, columns.source

    def spec_at(position: int) -> SeriesSpec:
        return cache.spec_of_object(project, series[position], category, source, limits)

    return assemble(
        len(series),
        spec_at,
        project,
        np.asarray(columns.series_index, dtype=np.int64),
        np.asarray(columns.timestamps_us, dtype=np.int64),
        np.asarray(columns.values, dtype=np.float64),
        now_us=now_us,
        limits=limits,
    )


SpecAt = Callable[[int], SeriesSpec]  # the checked series at a position; ValueError if bad


def assemble(
    series_count: int,
    spec_at: SpecAt,
    project: str,
    index: npt.NDArray[np.int64],
    stamps: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    *,
    now_us: int,
    limits: IngestLimits,
) -> PointBatch:
    count = len(values)
    if count == 0:
        raise BadUserInput("a batch needs at least one point")
    if count > limits.max_columnar_points:
        raise BadUserInput(f"a columnar batch holds at most {limits.max_columnar_points} points")
    if index.min() < 0 or index.max() >= series_count:
        raise BadUserInput("a point names a series the columns do not hold")
    errors: list[PointError] = []
    earliest = now_us - limits.retention_seconds * 1_000_000
    latest = now_us + limits.max_future_seconds * 1_000_000
    bad_value = ~np.isfinite(values)
    too_old, too_new = stamps < earliest, stamps > latest
    if bad_value.any() or too_old.any() or too_new.any():
        for at in np.flatnonzero(bad_value | too_old | too_new).tolist():
            errors.append(PointError(at, _time_or_value_reason(bad_value[at], too_old[at], limits)))

    points_per_series = np.bincount(index, minlength=series_count)
    fast = _series_fast(series_count, spec_at, points_per_series)
    if fast is not None:
        series, slot_of = fast
        bad_series: dict[int, str] = {}
    else:
        series, slot_of, bad_series = _series_one_by_one(series_count, spec_at, points_per_series)
    first_point = _first_point_of(index, series_count) if bad_series else index
    for position, reason in bad_series.items():
        errors.append(PointError(int(first_point[position]), reason))
    if errors:
        raise BatchRejected(sorted(errors, key=lambda e: e.index))
    slots = slot_of[index]
    return PointBatch(
        project,
        series=series,
        series_index=slots.tolist(),
        timestamps_us=stamps.tolist(),
        values=values.tolist(),
        arrays=BatchArrays(slots, stamps, values),
    )


def _series_fast(
    series_count: int, spec_at: SpecAt, points_per_series: npt.NDArray[np.int64]
) -> tuple[list[SeriesSpec], npt.NDArray[np.int64]] | None:
    """The usual case in one comprehension: every series has points, is valid and is
    distinct (collectors' decoders hand each series once). None: look one by one."""
    if not points_per_series.all():
        return None
    try:
        specs = [spec_at(position) for position in range(series_count)]
    except (ValueError, TypeError):
        return None
    if len({spec.id for spec in specs}) != len(specs):
        return None
    return specs, np.arange(series_count, dtype=np.int64)


def _series_one_by_one(
    series_count: int, spec_at: SpecAt, points_per_series: npt.NDArray[np.int64]
) -> tuple[list[SeriesSpec], npt.NDArray[np.int64], dict[int, str]]:
    series: list[SeriesSpec] = []
    slots_by_id: dict[int, int] = {}
    slot_of = np.zeros(series_count, dtype=np.int64)
    bad_series: dict[int, str] = {}
    for position in range(series_count):
        if not points_per_series[position]:
            continue  # a series without points is not stored
        try:
            spec = spec_at(position)
        except (ValueError, TypeError) as exc:
            bad_series[position] = str(exc)
            continue
        slot = slots_by_id.get(spec.id)
        if slot is None:
            slot = slots_by_id[spec.id] = len(series)
            series.append(spec)
        elif series[slot] != spec:
            bad_series[position] = (
                "type, category or source differs from another entry of this series"
            )
        slot_of[position] = slot
    return series, slot_of, bad_series


def _time_or_value_reason(bad_value: bool, too_old: bool, limits: IngestLimits) -> str:
    if bad_value:
        return "value must be finite (no NaN or Infinity)"
    if too_old:
        return "timestamp is older than the retention period"
    return f"timestamp is more than {limits.max_future_seconds} s in the future"


def _first_point_of(index: npt.NDArray[np.int64], series_count: int) -> npt.NDArray[np.int64]:
    """For each series, the position of its first point (-1 if it has none)."""
    first = np.full(series_count, -1, dtype=np.int64)
    positions = np.arange(len(index), dtype=np.int64)[::-1]
    first[index[::-1]] = positions  # the last write wins: the smallest position
    return first
