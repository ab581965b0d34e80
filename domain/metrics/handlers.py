"""Metric command handlers: ingest, validated then stored durably, then announced."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from domain.errors import PointError
from domain.events import Event
from domain.metrics.commands import CreateMetricsCommand
from domain.metrics.events import MetricCollectedEvent
from domain.metrics.ingest import (
    BatchRejected,
    IngestLimits,
    PointBatch,
    SeriesCache,
    check_descriptions,
    entry_at,
    is_series_entry,
    validate_points,
)
from domain.metrics.ports import MetricStore, Offload, RawRetention
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
    raw_retention: RawRetention | None = None,
) -> IngestReceipt:
    descriptions = check_descriptions(command.descriptions, limits)
    if descriptions and not len(command.points):  # metadata on its own
        await metrics.describe(command.project, descriptions)
        return IngestReceipt(accepted=0, replayed=False, batch=PointBatch(command.project))
    now_us = clock.now_us()
    longest_us = 0
    if raw_retention is not None:  # the project's policy, not the instance's ceiling
        longest_us = await raw_retention.longest_raw_us(command.project)
        limits = replace(limits, retention_seconds=longest_us // 1_000_000)

    def validated() -> PointBatch:
        return validate_points(
            command.project, command.points, now_us=now_us, limits=limits, cache=series_cache
        )

    size = len(command.points)
    batch = validated() if offload is None else await offload(validated, size=size)
    if raw_retention is not None:
        try:
            await _within_their_retention(batch, raw_retention, now_us, longest_us)
        except BatchRejected as rejected:
            if isinstance(command.points, list) and is_series_entry(command.points[0]):
                raise _in_entries(rejected, command.points) from None
            raise
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
                arrays=batch.arrays,
            )
        )
    return IngestReceipt(accepted=result.accepted, replayed=result.replayed, batch=batch)


async def _within_their_retention(
    batch: PointBatch, raw_retention: RawRetention, now_us: int, longest_us: int
) -> None:
    """Refuse points older than their own metric's raw retention, where an override keeps
    that metric shorter than the project's longest (validation checked the longest)."""
    keeps = await raw_retention.raw_us(batch.project, [s.name for s in batch.series])
    if all(keep >= longest_us for keep in keeps):
        return
    horizon = now_us - np.asarray(keeps, dtype=np.int64)
    index = np.asarray(batch.series_index, dtype=np.int64)
    stamps = np.asarray(batch.timestamps_us, dtype=np.int64)
    too_old = np.flatnonzero(stamps < horizon[index])
    if len(too_old):
        reason = "timestamp is older than the retention period of its metric"
        raise BatchRejected([PointError(int(i), reason) for i in too_old])


def _in_entries(rejected: BatchRejected, entries: list[Any]) -> BatchRejected:
    """Points named as series entries name them (the columnar form's own refusals do)."""
    ends = np.cumsum([len(e["values"]) for e in entries])
    named = []
    for error in rejected.errors:
        entry = int(np.searchsorted(ends, error.index, side="right"))
        first = int(ends[entry - 1]) if entry else 0
        named.append(PointError(entry, f"point {error.index - first}: {error.reason}"))
    return BatchRejected(named)
