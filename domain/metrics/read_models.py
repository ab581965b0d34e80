"""Metric read models: what metric queries and the ingest command answer (the RFC's MetricDto)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from domain.metrics.model import Metric

__all__ = ["IngestReceipt", "MetricDto", "SeriesData", "SeriesResult"]

MetricDto = Metric


class SeriesData:
    """One line of a chart: its tags (the group's, when grouped) and one value per bucket,
    None where a bucket is empty.

    A store that computed the line as an array hands it over as one (`from_array`, NaN
    where empty): analytics reads it with `array()`, and the list is made only if asked
    for. Reading a week of 1,000 series, the round trip array -> list -> array held the
    event loop ~1.1 s and made every ingest acknowledgement meanwhile twice as slow.
    """

    __slots__ = ("_array", "_values", "tags")

    def __init__(self, tags: dict[str, str], values: list[float | None]) -> None:
        self.tags = tags
        self._values: list[float | None] | None = values
        self._array: npt.NDArray[np.float64] | None = None

    @classmethod
    def from_array(cls, tags: dict[str, str], values: npt.NDArray[np.float64]) -> SeriesData:
        line = cls(tags, [])
        line._values, line._array = None, values
        return line

    @property
    def values(self) -> list[float | None]:
        if self._values is None:
            assert self._array is not None
            self._values = _with_gaps(self._array)
        return self._values

    def array(self) -> npt.NDArray[np.float64]:
        """The values as float64, NaN where a bucket is empty."""
        if self._array is None:
            self._array = np.array(self.values, dtype=np.float64)  # None becomes NaN
        return self._array

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SeriesData):
            return NotImplemented
        return self.tags == other.tags and self.values == other.values

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"SeriesData(tags={self.tags!r}, values={self.values!r})"


def _with_gaps(row: npt.NDArray[np.float64]) -> list[float | None]:
    empty = np.isnan(row)
    if not empty.any():
        return row.tolist()  # type: ignore[no-any-return]
    cells = row.astype(object)
    cells[empty] = None
    return cells.tolist()  # type: ignore[no-any-return]


@dataclass(frozen=True, slots=True)
class SeriesResult:
    """Dense arrays: `timestamps_us[i]` is the start of bucket i for every series.

    `resolution` names the coarsest tier that served part of it (domain/storage/tiers.py:
    "raw", "1m" or "1h"); the values are the same whichever served them."""

    timestamps_us: list[int]
    series: list[SeriesData]
    resolution: str = "raw"
    # The lines as one matrix (row i: `series[i]`, NaN where empty) when the store built
    # them so: a reader of many lines copies it whole rather than visiting each line.
    matrix: npt.NDArray[np.float64] | None = field(default=None, compare=False, repr=False)

    def as_matrix(self) -> npt.NDArray[np.float64]:
        """Row i is `series[i].array()`."""
        if self.matrix is not None:
            return self.matrix
        if not self.series:
            return np.empty((0, len(self.timestamps_us)))
        return np.vstack([line.array() for line in self.series])


@dataclass(frozen=True, slots=True)
class IngestReceipt:
    """The answer to an accepted batch; point ids are derived only when asked for."""

    accepted: int
    replayed: bool
    batch: Any = None  # the validated PointBatch

    def point_ids(self) -> list[str]:
        return self.batch.point_ids() if self.batch is not None else []
