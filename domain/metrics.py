"""The metric model: points, series, tag matchers and the aggregations charts ask for."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from domain.errors import BadUserInput

__all__ = [
    "Aggregation",
    "MatchOp",
    "Metric",
    "MetricType",
    "SeriesKey",
    "TagMatcher",
    "Tags",
    "matches_all",
]

Tags = Mapping[str, str]


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


class MatchOp(StrEnum):
    EQ = "="
    NEQ = "!="
    REGEX = "=~"
    NOT_REGEX = "!~"


@dataclass(frozen=True, slots=True)
class TagMatcher:
    """A Prometheus-style label matcher; a regex must match the whole value."""

    key: str
    op: MatchOp
    value: str

    def __post_init__(self) -> None:
        if self.op in (MatchOp.REGEX, MatchOp.NOT_REGEX):
            try:
                re.compile(self.value)
            except re.error as exc:
                raise BadUserInput(f"invalid regex for tag {self.key!r}: {exc}") from None

    def matches(self, tags: Tags) -> bool:
        actual = tags.get(self.key, "")
        if self.op is MatchOp.EQ:
            return actual == self.value
        if self.op is MatchOp.NEQ:
            return actual != self.value
        hit = _compiled(self.value).fullmatch(actual) is not None
        return hit if self.op is MatchOp.REGEX else not hit


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def matches_all(matchers: tuple[TagMatcher, ...], tags: Tags) -> bool:
    return all(m.matches(tags) for m in matchers)


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
