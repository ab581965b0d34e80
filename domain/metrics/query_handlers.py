"""Metric query handlers: points by id and by page, chart series, names and tags."""

from __future__ import annotations

from domain.buckets import BucketGrid
from domain.errors import BadUserInput, NotFound
from domain.metrics.model import Metric, MetricDescription, decode_point_id
from domain.metrics.ports import MetricStore
from domain.metrics.queries import (
    GetMetricMetadataQuery,
    GetMetricNamesQuery,
    GetMetricsByIdQuery,
    GetMetricSeriesQuery,
    GetMetricsListQuery,
    GetTagKeysQuery,
    GetTagValuesQuery,
)
from domain.metrics.read_models import SeriesResult
from domain.paging import Page, check_first

__all__ = [
    "get_metric",
    "list_metrics",
    "metric_metadata",
    "metric_names",
    "metric_series",
    "tag_keys",
    "tag_values",
]


async def get_metric(query: GetMetricsByIdQuery, *, metrics: MetricStore) -> Metric:
    decoded = decode_point_id(query.id)
    point = None
    if decoded is not None:
        point = await metrics.get_point(query.project, *decoded)
    if point is None:
        raise NotFound(f"no metric {query.id!r} in project {query.project!r}")
    return point


async def list_metrics(query: GetMetricsListQuery, *, metrics: MetricStore) -> Page[Metric]:
    check_first(query.first)
    _check_range(query.start_us, query.end_us)
    return await metrics.list_points(query)


async def metric_series(query: GetMetricSeriesQuery, *, metrics: MetricStore) -> SeriesResult:
    _check_range(query.start_us, query.end_us)
    BucketGrid.checked(query.start_us, query.end_us, query.step_us)
    return await metrics.aggregate(query)


async def metric_names(query: GetMetricNamesQuery, *, metrics: MetricStore) -> list[str]:
    limit = check_first(query.limit, name="limit")
    return await metrics.metric_names(query.project, query.prefix, limit)


# A Prometheus histogram or summary family `x` is sent as the series `x_bucket`, `x_sum` and
# `x_count` (OTLP: `x.bucket`, `x.sum`, `x.count`), but described once, as `x`.
_FAMILY_SUFFIXES = ("_bucket", "_sum", "_count", "_created", ".bucket", ".sum", ".count")


async def metric_metadata(
    query: GetMetricMetadataQuery, *, metrics: MetricStore
) -> list[MetricDescription]:
    """Every metric name of the project (as metricNames lists them) with its description,
    or its family's; a name nobody described has no type, help or unit."""
    limit = check_first(query.limit, name="limit")
    names = await metrics.metric_names(query.project, query.prefix, limit)
    if not names:
        return []
    known = {d.name: d for d in await metrics.descriptions(query.project, "", 1_000_000)}
    answer = []
    for name in names:
        found = known.get(name) or _family_of(name, known)
        answer.append(
            MetricDescription(name, found.type, found.help, found.unit)
            if found is not None
            else MetricDescription(name)
        )
    return answer


def _family_of(name: str, known: dict[str, MetricDescription]) -> MetricDescription | None:
    for suffix in _FAMILY_SUFFIXES:
        if name.endswith(suffix):
            family = known.get(name[: -len(suffix)])
            if family is not None:
                return family
    return None


async def tag_keys(query: GetTagKeysQuery, *, metrics: MetricStore) -> list[str]:
    return await metrics.tag_keys(query.project, query.name)


async def tag_values(query: GetTagValuesQuery, *, metrics: MetricStore) -> list[str]:
    limit = check_first(query.limit, name="limit")
    return await metrics.tag_values(query.project, query.key, query.name, limit)


def _check_range(start_us: int | None, end_us: int | None) -> None:
    if start_us is not None and end_us is not None and start_us >= end_us:
        raise BadUserInput("from must be before to")
