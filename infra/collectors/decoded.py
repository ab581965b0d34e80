"""The neutral, columnar output of every collector decoder, and the error they raise."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "SERIES_TYPES",
    "DecodeError",
    "DecodedPoints",
    "DecodedSeries",
    "MetricFamily",
    "SeriesType",
]

SeriesType = Literal["gauge", "counter", "histogram", "summary"]
SERIES_TYPES: Final = ("gauge", "counter", "histogram", "summary")


@dataclass(frozen=True, slots=True)
class DecodedSeries:
    """One series of a request. Instances are shared across requests: treat `tags` as read-only."""

    name: str
    tags: dict[str, str]
    type: SeriesType
    help: str = ""  # Prometheus help / OTLP description
    unit: str = ""  # OTLP unit / Prometheus 2.0 unit


@dataclass(frozen=True, slots=True)
class MetricFamily:
    """Metadata a sender gave for a metric name without points (Prometheus 1.0 `metadata`)."""

    name: str
    type: SeriesType
    help: str = ""
    unit: str = ""


def _no_int() -> npt.NDArray[np.int64]:
    return np.empty(0, np.int64)


def _no_float() -> npt.NDArray[np.float64]:
    return np.empty(0, np.float64)


@dataclass(slots=True)
class DecodedPoints:
    """Points as columns: point i belongs to `series[series_index[i]]`.

    numpy arrays rather than lists: the Prometheus decoders produce them directly and the
    ingest path checks and stores columns with numpy (docs/decisions/0017-collector-decoding.md).
    """

    series: list[DecodedSeries] = field(default_factory=list)
    series_index: npt.NDArray[np.int64] = field(default_factory=_no_int)
    timestamps_us: npt.NDArray[np.int64] = field(default_factory=_no_int)  # epoch microseconds
    values: npt.NDArray[np.float64] = field(default_factory=_no_float)
    # (index, reason) of points dropped; the index counts the request's points in wire order.
    rejected: list[tuple[int, str]] = field(default_factory=list)
    families: list[MetricFamily] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.values)

    def rows(self) -> list[tuple[DecodedSeries, int, float]]:
        """(series, timestamp_us, value) per point: for tests and small requests, not hot paths."""
        series = self.series
        return [
            (series[i], t, v)
            for i, t, v in zip(
                self.series_index.tolist(),
                self.timestamps_us.tolist(),
                self.values.tolist(),
                strict=True,
            )
        ]


class DecodeError(Exception):
    """A request that cannot be decoded: `status` is the HTTP status the endpoint answers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def __repr__(self) -> str:
        return f"DecodeError({self.status}, {self.message!r})"
