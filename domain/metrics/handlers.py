"""Metric command handlers: ingest, validated then stored durably, then announced."""

from __future__ import annotations

from domain.events import Event
from domain.metrics.commands import CreateMetricsCommand
from domain.metrics.events import MetricCollectedEvent
from domain.metrics.ingest import (
    IngestLimits,
    PointBatch,
    SeriesCache,
    check_descriptions,
    entry_at,
    is_series_entry,
    validate_points,
)
from domain.metrics.ports import MetricStore, Offload
from domain.metrics.read_models import IngestReceipt
from domain.metrics.series_limits import SeriesLimiter, SeriesLimitExceeded
from domain.ports import Clock

__all__ = ["create_metrics"]


async def create_metrics(
    command: CreateMetricsCommand,
    events: list[Event],
    *,
    metrics: MetricStore,
    clock: Clock,
    limits: IngestLimits,
    series_cache: SeriesCache,
    series_limiter: SeriesLimiter,
    offload: Offload | None = None,
) -> IngestReceipt:
    descriptions = check_descriptions(command.descriptions, limits)
    if descriptions and not len(command.points):  # metadata on its own
        await metrics.describe(command.project, descriptions)
        return IngestReceipt(accepted=0, replayed=False, batch=PointBatch(command.project))
    now_us = clock.now_us()

    def validated() -> PointBatch:
        return validate_points(
            command.project, command.points, now_us=now_us, limits=limits, cache=series_cache
        )

    size = len(command.points)
    batch = validated() if offload is None else await offload(validated, size=size)
    if descriptions:
        # Before the points: if storing them fails, the request is retried, and a
        # description stored twice is the same description.
        await metrics.describe(command.project, descriptions)
    try:
        admission = series_limiter.admit(batch)
    except SeriesLimitExceeded as exceeded:
        if isinstance(command.points, list) and is_series_entry(command.points[0]):
            raise exceeded.at_entry(entry_at(command.points, exceeded.index)) from None
        raise
    try:
        result = await metrics.append(batch, idempotency_key=command.idempotency_key)
    except BaseException:
        admission.undo()
        raise
    if result.replayed:
        admission.undo()
    else:
        events.append(
            MetricCollectedEvent(
                project=batch.project,
                series=[series_cache.event_form(s) for s in batch.series],
                series_index=batch.series_index,
                timestamps_us=batch.timestamps_us,
                values=batch.values,
            )
        )
    return IngestReceipt(accepted=result.accepted, replayed=result.replayed, batch=batch)
