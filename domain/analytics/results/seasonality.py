"""SEASONALITY: the periods found and their shapes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from domain.analytics.results._base import AnalyticsKind, Json

__all__ = ["DetectedPeriod", "PeriodName", "SeasonalityResult"]


class PeriodName(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class DetectedPeriod(Json):
    """One period found: `profile[i]` is the average deviation at `i * profile_step_us`
    into the period (zero mean), `strength` the STL seasonal strength in [0, 1]."""

    name: PeriodName
    period_us: int
    period_buckets: int
    strength: float
    p_value: float
    profile_step_us: int
    profile: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class SeasonalityResult(Json):
    """`periods` strongest first; empty (and `none` true) when nothing is significant."""

    kind: ClassVar[AnalyticsKind] = AnalyticsKind.SEASONALITY
    tags: Mapping[str, str]
    start_us: int
    end_us: int
    periods: tuple[DetectedPeriod, ...]

    @property
    def none(self) -> bool:
        return not self.periods

    def to_dict(self) -> dict[str, Any]:
        return {**Json.to_dict(self), "none": self.none}
