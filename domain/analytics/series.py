"""The input of every analysis: one series on a regular time grid, NaN where no point fell."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

__all__ = ["DAY_US", "HOUR_US", "MINUTE_US", "WEEK_US", "FloatArray", "Grid"]

FloatArray = npt.NDArray[np.float64]

MINUTE_US = 60_000_000
HOUR_US = 60 * MINUTE_US
DAY_US = 24 * HOUR_US
WEEK_US = 7 * DAY_US


@dataclass(frozen=True, slots=True, eq=False)
class Grid:
    """`values[i]` is the bucket starting at `start_us + i * step_us` (NaN: no data).

    The store's rollups produce it (one aggregate per bucket); the methods never see raw
    points, so every analysis works in buckets and reports bucket times.
    """

    start_us: int
    step_us: int
    values: FloatArray
    tags: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=np.float64)
        if values.ndim != 1:
            raise ValueError("a grid holds one dimension of values")
        if self.step_us <= 0:
            raise ValueError("step_us must be positive")
        if np.isinf(values).any():
            raise ValueError("a grid holds finite values or NaN for missing buckets")
        values.flags.writeable = False  # shared between analyses: nobody may change it
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "tags", MappingProxyType(dict(self.tags)))

    def __len__(self) -> int:
        return int(self.values.shape[0])

    @property
    def end_us(self) -> int:
        """The end of the last bucket (exclusive)."""
        return self.start_us + len(self) * self.step_us

    @property
    def observed(self) -> npt.NDArray[np.bool_]:
        return ~np.isnan(self.values)

    def time_of(self, index: float) -> int:
        """The start of bucket `index` (fractional indexes land between buckets)."""
        return self.start_us + round(index * self.step_us)

    def times_us(self) -> npt.NDArray[np.int64]:
        return self.start_us + np.arange(len(self), dtype=np.int64) * self.step_us

    def window(self, start_us: int, end_us: int) -> Grid:
        """The buckets starting in [start_us, end_us), on the same step."""
        first = max(0, -(-(start_us - self.start_us) // self.step_us))
        last = min(len(self), max(first, -(-(end_us - self.start_us) // self.step_us)))
        return Grid(
            start_us=self.start_us + first * self.step_us,
            step_us=self.step_us,
            values=self.values[first:last],
            tags=self.tags,
        )
