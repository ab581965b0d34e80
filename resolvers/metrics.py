"""Metric operations: ingest, point reads, chart series and catalogue discovery."""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Annotated

import strawberry

from domain.access import Permission
from domain.durations import parse_step
from domain.errors import BadUserInput, NotFound
from domain.metrics.commands import CreateMetricsCommand
from domain.metrics.model import Aggregation as DomainAggregation
from domain.metrics.model import Metric as DomainMetric
from domain.metrics.queries import (
    GetMetricMetadataQuery,
    GetMetricNamesQuery,
    GetMetricsByIdQuery,
    GetMetricSeriesQuery,
    GetMetricsListQuery,
    GetTagKeysQuery,
    GetTagValuesQuery,
)
from domain.paging import cursor_number, cursor_timestamp
from schema.context import Info
from schema.inputs import PointInput, TagMatcherInput, matchers_of
from schema.scalars import PointBatch
from schema.types import (
    Aggregation,
    IngestReceipt,
    Metric,
    MetricConnection,
    MetricMetadata,
    MetricSeries,
    PageInfo,
    to_us,
)

__all__ = [
    "create_metric",
    "create_metrics",
    "metric",
    "metric_metadata",
    "metric_names",
    "metric_series",
    "metrics",
    "parse_step",
    "tag_keys",
    "tag_values",
]

DEFAULT_RANGE_US = 3_600_000_000
MAX_GROUP_BY = 16


def _encode_cursor(metric: DomainMetric, series_id: int) -> str:
    return base64.urlsafe_b64encode(f"{metric.timestamp_us}:{series_id}".encode()).decode()


def _decode_cursor(cursor: str | None) -> tuple[int, int] | None:
    if cursor is None:
        return None
    try:
        stamp, sid = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        return cursor_timestamp(stamp), cursor_number(sid)
    except ValueError:
        raise BadUserInput("after is not a cursor this API returned") from None


async def create_metric(info: Info, project: str, point: PointInput) -> Metric:
    """CreateMetricCommand: one point, acknowledged once durable."""
    receipt = await info.context.bus.handle(
        CreateMetricsCommand(project, [point.as_raw()]),
        actor=info.context.require_principal().subject,
        request_id=info.context.request_id,
    )
    batch = receipt.batch
    return Metric.of(batch.series[0].metric(project, batch.timestamps_us[0], batch.values[0]))


async def create_metrics(
    info: Info, project: str, points: PointBatch, idempotency_key: str | None = None
) -> IngestReceipt:
    """CreateMetricCommand for a batch: all or nothing, acknowledged once durable."""
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 200:
        raise BadUserInput("idempotencyKey must be 1 to 200 characters")
    receipt = await info.context.bus.handle(
        CreateMetricsCommand(project, points, idempotency_key),
        actor=info.context.require_principal().subject,
        request_id=info.context.request_id,
    )
    # Stored and decoded: the request's own objects are no longer needed. graphql-core's
    # executor is a reference cycle (its async helpers are its bound methods) holding the
    # variables, so they would wait for a full collection, which the tuned thresholds make
    # rare: ~550 B of Python objects per point, 420 MB after the storage bench's 1M points.
    # Emptied here, they go at once (docs/performance.md, "Memory"). Only after success:
    # a cancelled request may still be validating them on the offload thread.
    points.clear()
    return IngestReceipt(accepted=receipt.accepted, replayed=receipt.replayed, _receipt=receipt)


async def metric(info: Info, id: strawberry.ID, project: str | None = None) -> Metric:
    """GetMetricsByIdQuery; an id of a project the caller cannot read is simply not found."""
    principal = info.context.require_principal()
    projects = [project] if project else principal.projects_with(Permission.READ)
    for candidate in projects:
        if not principal.can(candidate, Permission.READ):
            continue
        try:
            found = await info.context.bus.ask(GetMetricsByIdQuery(candidate, str(id)))
        except NotFound:
            continue
        return Metric.of(found)
    raise NotFound(f"no metric {id!r}")


async def metrics(
    info: Info,
    project: str,
    name: str | None = None,
    matchers: list[TagMatcherInput] | None = None,
    from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
    to: datetime | None = None,
    first: int = 100,
    after: str | None = None,
) -> MetricConnection:
    """GetMetricsListQuery: points newest first, paged by cursor."""
    page = await info.context.bus.ask(
        GetMetricsListQuery(
            project,
            name,
            matchers_of(matchers),
            to_us(from_),
            to_us(to),
            first,
            _decode_cursor(after),
        )
    )
    items = [Metric.of(m) for m in page.items]
    end_cursor = None
    if page.items:
        last = page.items[-1]
        end_cursor = _encode_cursor(last, int(last.id[:16], 16))
    return MetricConnection(
        items=items, page_info=PageInfo(end_cursor=end_cursor, has_next_page=page.has_next_page)
    )


async def metric_series(
    info: Info,
    project: str,
    name: str,
    from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
    to: datetime | None = None,
    step: str | None = None,
    aggregation: Aggregation = DomainAggregation.AVG,  # type: ignore[valid-type]
    matchers: list[TagMatcherInput] | None = None,
    group_by: list[str] | None = None,
) -> MetricSeries:
    """Dense arrays for charts, aggregated inside the store; no step gives one bucket.

    The range defaults to the hour before `to`, and `to` to now, as a chart opens.
    """
    end = to_us(to) or info.context.clock.now_us()
    start = to_us(from_) or end - DEFAULT_RANGE_US
    if group_by is not None and len(group_by) > MAX_GROUP_BY:
        raise BadUserInput(f"groupBy takes at most {MAX_GROUP_BY} tags")
    result = await info.context.bus.ask(
        GetMetricSeriesQuery(
            project=project,
            name=name,
            start_us=start,
            end_us=end,
            aggregation=DomainAggregation(aggregation),
            step_us=parse_step(step) if step else None,
            matchers=matchers_of(matchers),
            group_by=tuple(group_by) if group_by is not None else None,
        )
    )
    return MetricSeries.of(result)


async def metric_names(info: Info, project: str, prefix: str = "", limit: int = 1000) -> list[str]:
    names: list[str] = await info.context.bus.ask(GetMetricNamesQuery(project, prefix, limit))
    return names


async def metric_metadata(
    info: Info, project: str, prefix: str = "", limit: int = 1000
) -> list[MetricMetadata]:
    """Metric names with their type, help and unit, as collectors described them."""
    found = await info.context.bus.ask(GetMetricMetadataQuery(project, prefix, limit))
    return [MetricMetadata.of(d) for d in found]


async def tag_keys(info: Info, project: str, name: str | None = None) -> list[str]:
    keys: list[str] = await info.context.bus.ask(GetTagKeysQuery(project, name))
    return keys


async def tag_values(
    info: Info, project: str, key: str, name: str | None = None, limit: int = 1000
) -> list[str]:
    values: list[str] = await info.context.bus.ask(GetTagValuesQuery(project, key, name, limit))
    return values
