"""Read models of anomaly detection: detections with their detectors, pages of anomalies,
bands for charts, and the history scoring that an ANOMALIES job answers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.anomaly.detection import AnomalyDetection
from domain.anomaly.model import ModelState, Seasonality
from domain.anomaly.records import AnomalyRecord

__all__ = [
    "AnomaliesResult",
    "AnomalyBandDto",
    "AnomalyDetectionDto",
    "AnomalyPage",
    "BandSeries",
    "DetectorStatus",
    "HistoryAnomaly",
    "TagContribution",
]


@dataclass(frozen=True, slots=True)
class DetectorStatus:
    """One series' detector as it stands."""

    series_id: int
    tags: Mapping[str, str]
    state: ModelState
    seasonality: Seasonality
    model_age_points: int
    model_age_seconds: float
    learning: str | None  # why it has no band yet, while LEARNING
    points_needed: int
    seconds_needed: float


@dataclass(frozen=True, slots=True)
class AnomalyDetectionDto:
    """A detection; `detectors` is None when another process runs them."""

    detection: AnomalyDetection
    detectors: tuple[DetectorStatus, ...] | None = None


@dataclass(frozen=True, slots=True)
class TagContribution:
    """A tag value and how much of the anomalies' total score its series carried."""

    key: str
    value: str
    anomalies: int
    score: float
    share: float


@dataclass(frozen=True, slots=True)
class AnomalyPage:
    items: list[AnomalyRecord]
    has_next_page: bool
    contributors: list[TagContribution] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class BandSeries:
    """`baseline[i]`, `lower[i]`, `upper[i]`: the band in bucket i (None: no scored point)."""

    tags: Mapping[str, str]
    baseline: list[float | None]
    lower: list[float | None]
    upper: list[float | None]


@dataclass(frozen=True, slots=True)
class AnomalyBandDto:
    timestamps_us: list[int]
    series: list[BandSeries]


@dataclass(frozen=True, slots=True)
class HistoryAnomaly:
    timestamp_us: int
    value: float
    score: float
    onset: bool
    explanation: str


@dataclass(frozen=True, slots=True)
class AnomaliesResult:
    """The ANOMALIES analytics job on one grid: the band and score of every bucket as the
    live detector would have given them (NaN: no data, or still learning), and the
    anomalies (score at least the configured threshold)."""

    tags: Mapping[str, str]
    start_us: int
    step_us: int
    baseline: tuple[float, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    score: tuple[float, ...]
    anomalies: tuple[HistoryAnomaly, ...]
    episodes: int  # anomalies that start an episode (onsets)
    sensitivity: float

    def to_dict(self) -> dict[str, Any]:
        def clean(values: tuple[float, ...]) -> list[float | None]:
            return [None if v != v else v for v in values]

        return {
            "kind": "ANOMALIES",
            "tags": dict(self.tags),
            "start_us": self.start_us,
            "step_us": self.step_us,
            "baseline": clean(self.baseline),
            "lower": clean(self.lower),
            "upper": clean(self.upper),
            "score": clean(self.score),
            "anomalies": [
                {
                    "timestamp_us": a.timestamp_us,
                    "value": a.value,
                    "score": a.score,
                    "onset": a.onset,
                    "explanation": a.explanation,
                }
                for a in self.anomalies
            ],
            "episodes": self.episodes,
            "sensitivity": self.sensitivity,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AnomaliesResult:
        def floats(values: list[float | None]) -> tuple[float, ...]:
            return tuple(math.nan if v is None else float(v) for v in values)

        return cls(
            tags=dict(data["tags"]),
            start_us=int(data["start_us"]),
            step_us=int(data["step_us"]),
            baseline=floats(data["baseline"]),
            lower=floats(data["lower"]),
            upper=floats(data["upper"]),
            score=floats(data["score"]),
            anomalies=tuple(
                HistoryAnomaly(
                    int(a["timestamp_us"]),
                    float(a["value"]),
                    float(a["score"]),
                    bool(a["onset"]),
                    str(a["explanation"]),
                )
                for a in data["anomalies"]
            ),
            episodes=int(data["episodes"]),
            sensitivity=float(data["sensitivity"]),
        )
