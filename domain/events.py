"""Events: what happened, past tense, published on the event bus after the fact."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any

__all__ = ["Event", "MetricCollectedEvent", "SystemHealthChangedEvent"]


class Event(abc.ABC):
    """Base of every event; each names the bus channel it travels on."""

    __slots__ = ()

    @abc.abstractmethod
    def channel(self) -> str:
        """The event-bus channel, scoped by project so subscribers see only their own."""


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

    def channel(self) -> str:
        return f"metrics.{self.project}"


@dataclass(frozen=True, slots=True)
class SystemHealthChangedEvent(Event):
    status: str
    components: dict[str, str]

    def channel(self) -> str:
        return "system.health"
