"""Metric command handlers: ingest, validated then stored durably, then announced."""

from __future__ import annotations

from domain.events import Event
from domain.metrics.commands import CreateMetricsCommand
from domain.metrics.events import MetricCollectedEvent
from domain.metrics.ingest import IngestLimits, SeriesCache, validate_points
from domain.metrics.ports import MetricStore
from domain.metrics.read_models import IngestReceipt
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
) -> IngestReceipt:
    batch = validate_points(
        command.project, command.points, now_us=clock.now_us(), limits=limits, cache=series_cache
    )
    result = await metrics.append(batch, idempotency_key=command.idempotency_key)
    if not result.replayed:
        events.append(
            MetricCollectedEvent(
                project=batch.project,
                series=[
                    {
                        "id": s.id,
                        "name": s.name,
                        "tags": s.tags,
                        "type": s.type.value,
                        "category": s.category,
                        "source": s.source,
                    }
                    for s in batch.series
                ],
                series_index=batch.series_index,
                timestamps_us=batch.timestamps_us,
                values=batch.values,
            )
        )
    return IngestReceipt(accepted=result.accepted, replayed=result.replayed, batch=batch)
