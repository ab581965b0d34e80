"""Analytics events: a running job's progress, and the RFC's AnalyticsCompletedEvent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from domain.events import Event

__all__ = ["AnalyticsCompletedEvent", "AnalyticsProgressEvent"]


@dataclass(frozen=True, slots=True)
class AnalyticsProgressEvent(Event):
    """Published at least every second while a job runs (and when it starts)."""

    project: str
    job_id: str
    kind: str
    state: str
    progress: float  # 0 to 1
    phase: str
    done: int  # work units finished (series, mostly)
    total: int
    at_us: int

    TOPIC: ClassVar[str] = "analytics_progress"


@dataclass(frozen=True, slots=True)
class AnalyticsCompletedEvent(Event):
    """A job ended: SUCCEEDED, FAILED (with the error) or CANCELLED."""

    project: str
    job_id: str
    kind: str
    state: str
    duration_ms: float | None  # from start to end; None if it never started
    error: str | None
    result_count: int
    at_us: int

    TOPIC: ClassVar[str] = "analytics"
