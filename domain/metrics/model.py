"""The metric model: points, series and the aggregations charts ask for."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from domain.matchers import Tags

__all__ = [
    "Aggregation",
    "Metric",
    "MetricDescription",
    "MetricType",
    "SeriesKey",
    "decode_point_id",
    "encode_point_id",
]

_HEX = re.compile(r"[0-9a-f]+")


class MetricType(StrEnum):
    GAUGE = "gauge"
    COUNTER = "counter"
    HISTOGRAM = "histogram"
    SUMMARY = "summary"


class Aggregation(StrEnum):
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    SUM = "sum"
    COUNT = "count"
    LAST = "last"
    P50 = "p50"
    P90 = "p90"
    P95 = "p95"
    P99 = "p99"

    @property
    def quantile(self) -> float | None:
        """0.5 for p50 and so on; None for the other aggregations."""
        return int(self.value[1:]) / 100 if self.value.startswith("p") else None


@dataclass(frozen=True, slots=True)
class SeriesKey:
    """What identifies a series inside a project: its name and its tags."""

    name: str
    tags: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, name: str, tags: Tags) -> SeriesKey:
        return cls(name, tuple(sorted(tags.items())))


@dataclass(frozen=True, slots=True)
class Metric:
    """One stored point, as the RFC's domain model names it."""

    id: str
    project: str
    name: str
    value: float
    timestamp_us: int
    tags: Tags = field(default_factory=dict)
    category: str = ""
    type: MetricType = MetricType.GAUGE
    source: str = ""


@dataclass(frozen=True, slots=True)
class MetricDescription:
    """What a sender says about a metric name: Prometheus type and help, OTLP unit and
    description. Kept per name in the catalogue, beside the series of that name."""

    name: str
    type: MetricType | None = None
    help: str = ""
    unit: str = ""


def encode_point_id(sid: int, timestamp_us: int) -> str:
    """A point is named by its series and its timestamp, so no per-point id is stored."""
    return f"{sid:016x}{timestamp_us:014x}"


def decode_point_id(point_id: str) -> tuple[int, int] | None:
    if len(point_id) != 30 or not _HEX.fullmatch(point_id):
        return None  # int(x, 16) alone would also take "0x", signs, "_" and spaces
    return int(point_id[:16], 16), int(point_id[16:], 16)
