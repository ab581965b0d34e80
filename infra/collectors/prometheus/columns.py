"""The last step shared by both remote-write versions: drop staleness markers, set aside
values and timestamps Vigil cannot store, intern the series, and build DecodedPoints."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from itertools import compress
from typing import Final

import numpy as np
import numpy.typing as npt

from infra.collectors.decoded import DecodedPoints, DecodedSeries, MetricFamily
from infra.collectors.interning import SeriesInterner

__all__ = ["STALE_NAN_BITS", "Columns", "finish"]

# Prometheus marks a series as gone with this NaN (model/value.StaleNaN): not a value.
STALE_NAN_BITS: Final = 0x7FF0000000000002
# Milliseconds whose microseconds still fit in int64.
_MAX_MS: Final = (2**63 - 1) // 1000

Columns = tuple[Sequence[Hashable], npt.NDArray[np.int64], npt.NDArray[np.float64]]


def finish(
    keys: Sequence[Hashable],
    timestamps_ms: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    *,
    interner: SeriesInterner,
    make: Callable[[Hashable], DecodedSeries],
    families: list[MetricFamily] | None = None,
) -> tuple[DecodedPoints, npt.NDArray[np.bool_]]:
    """The points, and which of the request's samples were accepted (staleness markers are)."""
    stale = values.view(np.uint64) == STALE_NAN_BITS
    bad_value = ~np.isfinite(values) & ~stale
    bad_time = (timestamps_ms > _MAX_MS) | (timestamps_ms < -_MAX_MS)
    rejected: list[tuple[int, str]] = []
    drop = stale | bad_value | bad_time
    if drop.any():
        for bad in np.flatnonzero(bad_value | bad_time).tolist():
            reason = (
                f"value {float(values[bad])!r} is not a finite number"
                if bad_value[bad]
                else f"timestamp {int(timestamps_ms[bad])} ms is out of range"
            )
            rejected.append((bad, reason))
        # The dropped samples' series are checked as the kept ones are (a bad label is a
        # 400 whatever the sample), as the message-by-message decoder checks every series.
        interner.index(list(compress(keys, drop.tolist())), make)
        keep = ~drop
        keys = list(compress(keys, keep.tolist()))
        timestamps_ms = timestamps_ms[keep]
        values = values[keep]
    series, index = interner.index(keys, make)
    points = DecodedPoints(
        series=series,
        series_index=index,
        timestamps_us=timestamps_ms * 1000,
        values=values,
        rejected=rejected,
        families=families or [],
    )
    return points, ~(bad_value | bad_time)
