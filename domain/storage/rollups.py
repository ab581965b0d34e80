"""The rollup row (one series, one tier bucket) and its reference computation from raw points.

Stores compute rows in their own query language; `rollup_of` is the definition they must
agree with (the tier property test compares every stored row with it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from domain.storage import sketch

__all__ = ["RollupRow", "counter_increase", "rollup_of"]


@dataclass(frozen=True, slots=True)
class RollupRow:
    """One series' points in [bucket_us, bucket_us + resolution) of a tier.

    `first`/`last` are the values of the oldest/newest point, stamped `first_us`/`last_us`.
    `increase` is the counter increase inside the bucket with Prometheus reset semantics:
    the sum over consecutive points of `b - a`, or of `b` when `b < a` (a reset; the
    increase after it is the new value). The step from the previous bucket's last point to
    this bucket's first is not in it (a reader adds it from `last`/`first` if it needs to).
    `sketch_keys`/`sketch_counts` are the bins of domain/storage/sketch.py.
    """

    series_id: int
    bucket_us: int
    count: int
    sum: float
    min: float
    max: float
    first: float
    first_us: int
    last: float
    last_us: int
    increase: float
    sketch_keys: tuple[int, ...]
    sketch_counts: tuple[int, ...]


def counter_increase(values_by_time: npt.ArrayLike) -> float:
    """The reset-aware increase of values ordered by time (see RollupRow)."""
    v = np.asarray(values_by_time, dtype=np.float64)
    if len(v) < 2:
        return 0.0
    steps = np.diff(v)
    return float(np.where(steps >= 0, steps, v[1:]).sum())


def rollup_of(
    series_id: int, bucket_us: int, timestamps_us: npt.ArrayLike, values: npt.ArrayLike
) -> RollupRow:
    """The row of one series' points in one bucket (at least one point, distinct stamps)."""
    ts = np.asarray(timestamps_us, dtype=np.int64)
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(ts, kind="stable")
    ts, v = ts[order], v[order]
    keys, counts = sketch.bins_of(v)
    return RollupRow(
        series_id=series_id,
        bucket_us=bucket_us,
        count=len(v),
        sum=float(v.sum()),
        min=float(v.min()),
        max=float(v.max()),
        first=float(v[0]),
        first_us=int(ts[0]),
        last=float(v[-1]),
        last_us=int(ts[-1]),
        increase=counter_increase(v),
        sketch_keys=tuple(keys.tolist()),
        sketch_counts=tuple(counts.tolist()),
    )
