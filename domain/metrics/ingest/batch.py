"""A validated batch in columns, the limits it was checked against, and point ids."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from domain.errors import BadUserInput, PointError
from domain.metrics.model import Metric, MetricType, decode_point_id, encode_point_id

__all__ = [
    "BatchArrays",
    "BatchRejected",
    "IngestLimits",
    "PointBatch",
    "SeriesSpec",
    "decode_point_id",
    "encode_point_id",
    "series_id",
]


@dataclass(frozen=True, slots=True)
class IngestLimits:
    max_batch: int = 10_000
    # The columnar form (series with arrays, collectors' requests) is checked with numpy,
    # not per point, so it may be larger.
    max_columnar_points: int = 100_000
    max_help_length: int = 1_000  # a metric description's help text
    max_unit_length: int = 100
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

    def metric(self, project: str, timestamp_us: int, value: float) -> Metric:
        """One point of this series, as stores and the API return it."""
        return Metric(
            id=encode_point_id(self.id, timestamp_us),
            project=project,
            name=self.name,
            value=value,
            timestamp_us=timestamp_us,
            tags=dict(self.tags),
            category=self.category,
            type=self.type,
            source=self.source,
        )


@dataclass(frozen=True, slots=True)
class BatchArrays:
    """A batch's columns as numpy arrays, kept when it was checked as arrays (collectors,
    series entries): the store appends them as they are instead of converting the lists
    back (~0.6 ms for 5,000 points)."""

    series_index: npt.NDArray[np.int64]
    timestamps_us: npt.NDArray[np.int64]
    values: npt.NDArray[np.float64]

    @classmethod
    def of(
        cls, series_index: Sequence[int], timestamps_us: Sequence[int], values: Sequence[float]
    ) -> BatchArrays:
        """Columns held as lists, converted."""
        return cls(
            np.asarray(series_index, dtype=np.int64),
            np.asarray(timestamps_us, dtype=np.int64),
            np.asarray(values, dtype=np.float64),
        )


@dataclass(slots=True)
class PointBatch:
    """Points in columns: `series_index[i]` points into `series` for point i.

    `arrays`, when set, holds the same columns as numpy arrays; the lists stay the
    batch's truth for everything else, and are never changed once it is built.
    """

    project: str
    series: list[SeriesSpec] = field(default_factory=list)
    series_index: list[int] = field(default_factory=list)
    timestamps_us: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    arrays: BatchArrays | None = field(default=None, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.values)

    def as_arrays(self) -> BatchArrays:
        """The columns as numpy arrays: those it was checked as, or the lists converted."""
        if self.arrays is not None:
            return self.arrays
        return BatchArrays.of(self.series_index, self.timestamps_us, self.values)

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
