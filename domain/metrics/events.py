"""Metric events: the RFC's MetricCollectedEvent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from domain.events import Event

__all__ = ["MetricCollectedEvent"]


@dataclass(frozen=True, slots=True)
class MetricCollectedEvent(Event):
    """A durable batch of points, in columns: point i is `values[i]` at `timestamps_us[i]`
    in `series[series_index[i]]`.

    Columnar and JSON-ready because it crosses the event bus once per batch, and the
    columns are the validated batch's own lists: building the event copies nothing.
    """

    project: str
    series: list[dict[str, Any]]
    series_index: list[int]
    timestamps_us: list[int]
    values: list[float]

    TOPIC: ClassVar[str] = "metrics"
