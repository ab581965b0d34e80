"""Metric events: the RFC's MetricCollectedEvent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from domain.events import IN_PROCESS_ONLY, Event
from domain.metrics.ingest.batch import BatchArrays

__all__ = ["MetricCollectedEvent"]


@dataclass(frozen=True, slots=True)
class MetricCollectedEvent(Event):
    """A durable batch of points, in columns: point i is `values[i]` at `timestamps_us[i]`
    in `series[series_index[i]]`.

    Columnar and JSON-ready because it crosses the event bus once per batch, and the
    columns are the validated batch's own lists: building the event copies nothing.
    `arrays`: the same columns as the batch's numpy arrays, for this process's handlers
    (not in the message); `columns()` gives them whether or not it was set.
    """

    project: str
    series: list[dict[str, Any]]
    series_index: list[int]
    timestamps_us: list[int]
    values: list[float]
    arrays: BatchArrays | None = field(
        default=None, repr=False, compare=False, metadata=IN_PROCESS_ONLY
    )

    TOPIC: ClassVar[str] = "metrics"

    def columns(self) -> BatchArrays:
        """The columns as numpy arrays: the batch's own, or the lists converted (once:
        kept in `arrays` for the event's other handlers)."""
        if self.arrays is None:
            converted = BatchArrays.of(self.series_index, self.timestamps_us, self.values)
            object.__setattr__(self, "arrays", converted)  # frozen; the same facts
        assert self.arrays is not None
        return self.arrays
