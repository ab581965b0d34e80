"""Anomaly events, published on `anomalies.<project>` as points are scored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from domain.events import Event

__all__ = ["AnomalyDetectedEvent"]


@dataclass(frozen=True, slots=True)
class AnomalyDetectedEvent(Event):
    """A point scored at least its detector's threshold (see AnomalyRecord for the fields;
    NaN edges are None here, as JSON has no NaN)."""

    project: str
    metric: str
    series_id: int
    tags: dict[str, str]
    at_us: int
    value: float
    baseline: float
    lower: float | None
    upper: float | None
    score: float
    p_value: float
    deviations: float | None
    direction: str
    seasonality: str
    state: str
    model_age_points: int
    model_age_seconds: float
    onset: bool
    explanation: str

    TOPIC: ClassVar[str] = "anomalies"
