"""What the metrics feature needs from a store: points and the series catalogue."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from domain.metrics.ingest import PointBatch
from domain.metrics.model import Metric, MetricDescription
from domain.metrics.queries import GetMetricSeriesQuery, GetMetricsListQuery
from domain.metrics.read_models import SeriesResult
from domain.metrics.series_limits import SeriesActivity
from domain.paging import Page

__all__ = ["AppendResult", "MetricStore", "Offload", "RawKeptSince", "RawRetention"]

T = TypeVar("T")


class Offload(Protocol):
    """Runs CPU-bound work (validating a big batch) off the event loop, so that other
    requests are served between its slices instead of waiting for all of it."""

    async def __call__(self, work: Callable[[], T], *, size: int) -> T: ...


class RawRetention(Protocol):
    """How far back each project keeps raw points (its retention policy): ingest refuses
    a point the next retention run would delete."""

    async def longest_raw_us(self, project: str) -> int:
        """The longest raw retention of any of the project's metrics."""
        ...

    async def raw_us(self, project: str, names: Sequence[str]) -> list[int]:
        """The raw retention of each metric name."""
        ...


class RawKeptSince(Protocol):
    """Since when a metric's raw points are kept: before it, retention has deleted them
    and a percentile chart reads the rollup tiers' sketches instead."""

    async def raw_kept_since_us(self, project: str, name: str) -> int: ...


@dataclass(frozen=True, slots=True)
class AppendResult:
    accepted: int
    replayed: bool  # True when the idempotency key had been used: nothing new was stored


class MetricStore(Protocol):
    """Points and the series catalogue of every project."""

    # Where each metric's raw points begin (set by the app once retention is built; None:
    # all of them are kept). A percentile before it reads the rollup tiers' sketches.
    raw_kept: RawKeptSince | None

    async def append(
        self, batch: PointBatch, *, idempotency_key: str | None = None
    ) -> AppendResult:
        """Store the whole batch or nothing; return only once it is durable.

        A batch whose idempotency key was already stored for the project stores nothing
        and answers with the first batch's count and `replayed=True`.
        """
        ...

    async def get_point(self, project: str, series_id: int, timestamp_us: int) -> Metric | None: ...

    async def list_points(self, query: GetMetricsListQuery) -> Page[Metric]: ...

    async def aggregate(self, query: GetMetricSeriesQuery) -> SeriesResult: ...

    async def metric_names(
        self, project: str, prefix: str = "", limit: int = 1000
    ) -> list[str]: ...

    async def tag_keys(self, project: str, name: str | None = None) -> list[str]: ...

    async def describe(self, project: str, descriptions: Sequence[MetricDescription]) -> None:
        """Keep these descriptions (one per name; a newer one replaces the older) durably."""
        ...

    async def descriptions(
        self, project: str, prefix: str = "", limit: int = 1000
    ) -> list[MetricDescription]:
        """The project's descriptions whose name starts with `prefix`, by name."""
        ...

    async def tag_values(
        self, project: str, key: str, name: str | None = None, limit: int = 1000
    ) -> list[str]: ...

    async def series_activity(self, active_since_us: int, created_since_us: int) -> SeriesActivity:
        """Per project: the series with a point stamped at or after `active_since_us` (with
        their newest stamp), and the creation times of the series first stored at or after
        `created_since_us`. Read once at start to seed the series limits."""
        ...

    async def ping(self) -> str:
        """Raise if the store cannot serve; return its version text."""
        ...

    async def close(self) -> None: ...
