"""Metric command handlers: ingest, validated then stored durably, then announced."""

from __future__ import annotations

from domain.events import Event
from domain.messagebus import Services
from domain.metrics.commands import CreateMetricsCommand
from domain.metrics.events import MetricCollectedEvent
from domain.metrics.ingest import validate_points
from domain.metrics.read_models import IngestReceipt

__all__ = ["create_metrics"]


async def create_metrics(
    command: CreateMetricsCommand, services: Services, events: list[Event]
) -> IngestReceipt:
    batch = validate_points(
        command.project,
        command.points,
        now_us=services.clock.now_us(),
        limits=services.limits,
        cache=services.series_cache,
    )
    result = await services.metrics.append(batch, idempotency_key=command.idempotency_key)
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
