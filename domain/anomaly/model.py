"""The anomaly detector's vocabulary: its configuration, states and the scored point."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple

__all__ = [
    "DetectorConfig",
    "Direction",
    "Learning",
    "ModelState",
    "Scored",
    "Seasonality",
    "p_value_to_score",
    "placement_of",
    "score_to_p_value",
]


class Direction(StrEnum):
    """Which deviations count: above the band, below it, or both."""

    UP = "up"
    DOWN = "down"
    BOTH = "both"
    NONE = "none"  # of a scored point: it is inside the band


class Seasonality(StrEnum):
    AUTO = "auto"  # config only: DAILY or WEEKLY where the data show it, else NONE
    NONE = "none"
    DAILY = "daily"
    WEEKLY = "weekly"


class ModelState(StrEnum):
    LEARNING = "learning"  # too little history for a band: nothing is flagged
    BASIC = "basic"  # a level and a scale
    SEASONAL = "seasonal"  # a level, a daily or weekly profile and a scale per hour


# Scores are -10 * log10(p_value), capped: a score of 50 means p = 1e-5.
SCORE_PER_DECADE = 10.0
MAX_SCORE = 100.0


def p_value_to_score(p_value: float) -> float:
    if p_value <= 1e-10:
        return MAX_SCORE
    if p_value >= 1.0:
        return 0.0
    return -SCORE_PER_DECADE * math.log10(p_value)


def score_to_p_value(score: float) -> float:
    return float(10.0 ** (-score / SCORE_PER_DECADE))


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """How a detector judges one series.

    `sensitivity` (0-100, default 50) sets how rare a deviation must be to be flagged: a
    point is anomalous when its score, -10 * log10(p_value), reaches `100 - sensitivity`.
    The default flags deviations with p <= 1e-5 (on 1-minute data, about one false alarm
    per series in 70 days if the model fits); each 10 points more sensitivity accepts
    deviations 10 times more common (70: p <= 1e-3), 10 less, 10 times rarer.
    """

    sensitivity: float = 50.0
    direction: Direction = Direction.BOTH
    seasonality: Seasonality = Seasonality.AUTO

    def __post_init__(self) -> None:
        if not 0.0 <= self.sensitivity <= 100.0 or math.isnan(self.sensitivity):
            raise ValueError(f"sensitivity must be within 0-100, not {self.sensitivity}")
        if self.direction is Direction.NONE:
            raise ValueError("direction must be UP, DOWN or BOTH")

    @property
    def threshold(self) -> float:
        """The score from which a point is anomalous."""
        return MAX_SCORE - self.sensitivity


@dataclass(frozen=True, slots=True)
class Learning:
    """Why a detector has no band yet and how much history it still needs."""

    reason: str
    points_needed: int
    seconds_needed: float


class Scored(NamedTuple):
    """One point as the detector judged it, with the band it was judged against.

    A NamedTuple, not a frozen dataclass: one is made per point on the ingest hot path,
    and a frozen dataclass of 16 fields took 2.1 µs to build there (0.4 µs this way)."""

    timestamp_us: int
    value: float
    baseline: float
    lower: float
    upper: float
    score: float  # 0-100, -10 * log10(p_value)
    p_value: float  # how often the model expects a deviation at least this large
    deviations: float  # (value - baseline) / scale, signed
    direction: Direction  # UP or DOWN when outside the band, else NONE
    seasonality: Seasonality  # the profile in use: NONE, DAILY or WEEKLY
    state: ModelState
    model_age_points: int
    model_age_seconds: float
    anomalous: bool  # score >= the configured threshold (never while LEARNING)
    onset: bool  # the first anomalous point of an episode (after a quiet spell)
    learning: Learning | None = None


def placement_of(project: str, metric: str) -> str:
    """What decides which process runs the detectors of a metric (with several processes,
    the holder of this key's shard lease): every detector of one metric, and every ANOMALY
    rule reading them, live in one process, so each series is scored once."""
    return f"anomaly\x1f{project}\x1f{metric}"
