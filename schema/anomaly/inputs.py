"""Anomaly enums and inputs."""

from __future__ import annotations

import strawberry

from domain.anomaly.commands import ConfigureAnomalyDetectionCommand
from domain.anomaly.model import Direction as DomainDirection
from domain.anomaly.model import ModelState as DomainState
from domain.anomaly.model import Seasonality as DomainSeasonality
from schema.inputs import TagMatcherInput, matchers_of

__all__ = ["AnomalyDetectionInput", "AnomalyDirection", "DetectorState", "Seasonality"]

AnomalyDirection = strawberry.enum(
    DomainDirection,
    name="AnomalyDirection",
    description="Which deviations count (UP, DOWN, BOTH); of a scored point, where it lies "
    "(UP or DOWN outside the band, NONE inside).",
)
Seasonality = strawberry.enum(
    DomainSeasonality,
    name="Seasonality",
    description="AUTO uses a daily or weekly profile where the data show one.",
)
DetectorState = strawberry.enum(
    DomainState,
    name="DetectorState",
    description="LEARNING (no band yet), BASIC (level and scale), SEASONAL (a profile).",
)


@strawberry.input(description="Anomaly detection on every series of a metric the matchers select.")
class AnomalyDetectionInput:
    metric: str
    matchers: list[TagMatcherInput] | None = None
    sensitivity: float = strawberry.field(
        default=50.0,
        description="0-100: a point is anomalous when its score reaches 100 - sensitivity "
        "(50: p <= 1e-5).",
    )
    direction: AnomalyDirection = DomainDirection.BOTH  # type: ignore[valid-type]
    seasonality: Seasonality = DomainSeasonality.AUTO  # type: ignore[valid-type]
    enabled: bool = True

    def to_command(self, project: str, actor: str) -> ConfigureAnomalyDetectionCommand:
        return ConfigureAnomalyDetectionCommand(
            project=project,
            metric=self.metric,
            matchers=matchers_of(self.matchers),
            sensitivity=self.sensitivity,
            direction=DomainDirection(self.direction),
            seasonality=DomainSeasonality(self.seasonality),
            enabled=self.enabled,
            actor=actor,
        )
