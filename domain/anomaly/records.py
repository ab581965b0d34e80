"""What detectors leave in the store: anomalous points with their explanation, and the band
per minute for charts."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.anomaly.model import Direction, ModelState, Seasonality

__all__ = ["BAND_STEP_US", "AnomalyRecord", "BandRow"]

BAND_STEP_US = 60_000_000  # one stored band row per series and minute


@dataclass(frozen=True, slots=True)
class AnomalyRecord:
    """One anomalous point as its detector scored it (`Scored`), with the words for it.

    `series_id` is the store's stable series id; `onset` marks the first point of an
    episode (what one notification would be about)."""

    project: str
    metric: str
    series_id: int
    tags: Mapping[str, str]
    timestamp_us: int
    value: float
    baseline: float
    lower: float
    upper: float
    score: float
    p_value: float
    deviations: float
    direction: Direction
    seasonality: Seasonality
    state: ModelState
    model_age_points: int
    model_age_seconds: float
    onset: bool
    explanation: str

    @property
    def cursor(self) -> str:
        """Where a page after this one starts (newest first: time, then series)."""
        return f"{self.timestamp_us}:{self.series_id}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "metric": self.metric,
            "series_id": self.series_id,
            "tags": dict(self.tags),
            "timestamp_us": self.timestamp_us,
            "value": self.value,
            "baseline": self.baseline,
            "lower": _finite(self.lower),
            "upper": _finite(self.upper),
            "score": self.score,
            "p_value": self.p_value,
            "deviations": _finite(self.deviations),
            "direction": self.direction.value,
            "seasonality": self.seasonality.value,
            "state": self.state.value,
            "model_age_points": self.model_age_points,
            "model_age_seconds": self.model_age_seconds,
            "onset": self.onset,
            "explanation": self.explanation,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnomalyRecord:
        return cls(
            project=data["project"],
            metric=data["metric"],
            series_id=int(data["series_id"]),
            tags=dict(data["tags"]),
            timestamp_us=int(data["timestamp_us"]),
            value=float(data["value"]),
            baseline=float(data["baseline"]),
            lower=_float(data["lower"]),
            upper=_float(data["upper"]),
            score=float(data["score"]),
            p_value=float(data["p_value"]),
            deviations=_float(data["deviations"]),
            direction=Direction(data["direction"]),
            seasonality=Seasonality(data["seasonality"]),
            state=ModelState(data["state"]),
            model_age_points=int(data["model_age_points"]),
            model_age_seconds=float(data["model_age_seconds"]),
            onset=bool(data["onset"]),
            explanation=str(data["explanation"]),
        )


@dataclass(frozen=True, slots=True)
class BandRow:
    """The band of one series over one minute: the means of the baseline and of both
    edges over the points scored in it."""

    project: str
    metric: str
    series_id: int
    tags: Mapping[str, str]
    bucket_us: int
    baseline: float
    lower: float
    upper: float
    points: int


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _float(value: float | None) -> float:
    return math.nan if value is None else float(value)
