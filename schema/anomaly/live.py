"""Anomaly events as subscribers receive them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.anomaly.events import AnomalyDetectedEvent
from domain.anomaly.model import Direction, ModelState
from domain.anomaly.model import Seasonality as DomainSeasonality
from schema.anomaly.inputs import AnomalyDirection, DetectorState, Seasonality
from schema.scalars import Tags
from schema.types import from_us

__all__ = ["AnomalyDetected"]


@strawberry.type(description="A point scored at least its detector's threshold, as it arrived.")
class AnomalyDetected:
    project: str
    metric: str
    tags: Tags
    at: datetime
    value: float
    baseline: float
    lower: float | None
    upper: float | None
    score: float
    p_value: float
    deviations: float | None
    direction: AnomalyDirection  # type: ignore[valid-type]
    seasonality: Seasonality  # type: ignore[valid-type]
    state: DetectorState  # type: ignore[valid-type]
    model_age: float
    onset: bool
    explanation: str

    @classmethod
    def of(cls, e: AnomalyDetectedEvent) -> AnomalyDetected:
        return cls(
            project=e.project,
            metric=e.metric,
            tags=Tags(dict(e.tags)),
            at=from_us(e.at_us),
            value=e.value,
            baseline=e.baseline,
            lower=e.lower,
            upper=e.upper,
            score=e.score,
            p_value=e.p_value,
            deviations=e.deviations,
            direction=Direction(e.direction),
            seasonality=DomainSeasonality(e.seasonality),
            state=ModelState(e.state),
            model_age=e.model_age_seconds,
            onset=e.onset,
            explanation=e.explanation,
        )
