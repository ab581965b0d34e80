"""Metric query handlers: points by id and by page, chart series, names and tags."""

from __future__ import annotations

from domain.errors import BadUserInput, NotFound
from domain.messagebus import Services
from domain.metrics.ingest import decode_point_id
from domain.metrics.model import Metric
from domain.metrics.queries import (
    GetMetricNamesQuery,
    GetMetricsByIdQuery,
    GetMetricSeriesQuery,
    GetMetricsListQuery,
    GetTagKeysQuery,
    GetTagValuesQuery,
)
from domain.metrics.read_models import MetricPage, SeriesResult

__all__ = [
    "MAX_BUCKETS",
    "MAX_PAGE",
    "get_metric",
    "list_metrics",
    "metric_names",
    "metric_series",
    "tag_keys",
    "tag_values",
]

MAX_BUCKETS = 11_000  # a chart wider than this many pixels is not one we serve in one query
MAX_PAGE = 1_000


async def get_metric(query: GetMetricsByIdQuery, services: Services) -> Metric:
    decoded = decode_point_id(query.id)
    point = None
    if decoded is not None:
        point = await services.metrics.get_point(query.project, *decoded)
    if point is None:
        raise NotFound(f"no metric {query.id!r} in project {query.project!r}")
    return point


async def list_metrics(query: GetMetricsListQuery, services: Services) -> MetricPage:
    if not 1 <= query.first <= MAX_PAGE:
        raise BadUserInput(f"first must be between 1 and {MAX_PAGE}")
    _check_range(query.start_us, query.end_us)
    return await services.metrics.list_points(query)


async def metric_series(query: GetMetricSeriesQuery, services: Services) -> SeriesResult:
    _check_range(query.start_us, query.end_us)
    if query.step_us is not None:
        if query.step_us <= 0:
            raise BadUserInput("step must be positive")
        if -(-(query.end_us - query.start_us) // query.step_us) > MAX_BUCKETS:
            raise BadUserInput(f"range / step gives more than {MAX_BUCKETS} buckets")
    return await services.metrics.aggregate(query)


async def metric_names(query: GetMetricNamesQuery, services: Services) -> list[str]:
    return await services.metrics.metric_names(query.project, query.prefix, _limit(query.limit))


async def tag_keys(query: GetTagKeysQuery, services: Services) -> list[str]:
    return await services.metrics.tag_keys(query.project, query.name)


async def tag_values(query: GetTagValuesQuery, services: Services) -> list[str]:
    return await services.metrics.tag_values(
        query.project, query.key, query.name, _limit(query.limit)
    )


def _check_range(start_us: int | None, end_us: int | None) -> None:
    if start_us is not None and end_us is not None and start_us >= end_us:
        raise BadUserInput("from must be before to")


def _limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise BadUserInput(f"limit must be between 1 and {MAX_PAGE}")
    return limit
