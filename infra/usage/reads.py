"""The read log's source: the metric store as query handlers see it (domain/usage), noting
read (charts, dashboards, reports and API queries all read through it)."""

from __future__ import annotations

from collections.abc import Sequence

from domain.metrics.ingest import PointBatch
from domain.metrics.model import Metric, MetricDescription
from domain.metrics.ports import AppendResult, MetricStore, RawKeptSince
from domain.metrics.queries import GetMetricSeriesQuery, GetMetricsListQuery
from domain.metrics.read_models import SeriesResult
from domain.metrics.series_limits import SeriesActivity
from domain.paging import Page
from domain.usage.meter import UsageMeter

__all__ = ["ReadNoting"]


class ReadNoting:
    """A MetricStore that tells the meter which metric each read names; the rest passes
    through unchanged (appends cost one more call, nothing else)."""

    def __init__(self, inner: MetricStore, meter: UsageMeter) -> None:
        self._inner = inner
        self._meter = meter

    @property
    def raw_kept(self) -> RawKeptSince | None:
        return self._inner.raw_kept

    @raw_kept.setter
    def raw_kept(self, value: RawKeptSince | None) -> None:
        self._inner.raw_kept = value

    async def append(
        self, batch: PointBatch, *, idempotency_key: str | None = None
    ) -> AppendResult:
        return await self._inner.append(batch, idempotency_key=idempotency_key)

    async def get_point(self, project: str, series_id: int, timestamp_us: int) -> Metric | None:
        return await self._inner.get_point(project, series_id, timestamp_us)

    async def list_points(self, query: GetMetricsListQuery) -> Page[Metric]:
        if query.name is not None:
            self._meter.read(query.project, query.name)
        return await self._inner.list_points(query)

    async def aggregate(self, query: GetMetricSeriesQuery) -> SeriesResult:
        self._meter.read(query.project, query.name)
        return await self._inner.aggregate(query)

    async def metric_names(self, project: str, prefix: str = "", limit: int = 1000) -> list[str]:
        return await self._inner.metric_names(project, prefix, limit)

    async def tag_keys(self, project: str, name: str | None = None) -> list[str]:
        return await self._inner.tag_keys(project, name)

    async def describe(self, project: str, descriptions: Sequence[MetricDescription]) -> None:
        await self._inner.describe(project, descriptions)

    async def descriptions(
        self, project: str, prefix: str = "", limit: int = 1000
    ) -> list[MetricDescription]:
        return await self._inner.descriptions(project, prefix, limit)

    async def tag_values(
        self, project: str, key: str, name: str | None = None, limit: int = 1000
    ) -> list[str]:
        return await self._inner.tag_values(project, key, name, limit)

    async def series_activity(self, active_since_us: int, created_since_us: int) -> SeriesActivity:
        return await self._inner.series_activity(active_since_us, created_since_us)

    async def ping(self) -> str:
        return await self._inner.ping()

    async def close(self) -> None:
        await self._inner.close()
