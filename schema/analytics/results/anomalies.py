"""ANOMALIES: a series' history scored by the live anomaly detector, band and anomalies."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.analytics.work import Item
from schema.scalars import FloatArray, Tags
from schema.types import from_us

__all__ = ["AnomaliesResult"]


@strawberry.type(description="A bucket whose score reached 100 - sensitivity.")
class HistoryAnomaly:
    time: datetime
    value: float
    score: float = strawberry.field(description="0-100, -10 * log10(pValue).")
    onset: bool = strawberry.field(description="The first anomalous bucket of an episode.")
    explanation: str


@strawberry.type(
    description="ANOMALIES: every bucket as the live detector would have scored it (null: "
    "no data, or still learning), and the anomalies found; a backtest of a sensitivity."
)
class AnomaliesResult:
    tags: Tags
    start: datetime = strawberry.field(description="The first bucket.")
    step: float = strawberry.field(description="Seconds per bucket.")
    timestamps: FloatArray = strawberry.field(description="Bucket starts, epoch milliseconds.")
    baseline: FloatArray
    lower: FloatArray
    upper: FloatArray
    score: FloatArray
    anomalies: list[HistoryAnomaly]
    episodes: int = strawberry.field(description="Anomalies that start an episode.")
    sensitivity: float

    @classmethod
    def of(cls, d: Item) -> AnomaliesResult:
        start, step = d["start_us"], d["step_us"]
        return cls(
            tags=Tags(d["tags"]),
            start=from_us(start),
            step=step / 1e6,
            timestamps=FloatArray([(start + i * step) // 1000 for i in range(len(d["score"]))]),
            baseline=FloatArray(d["baseline"]),
            lower=FloatArray(d["lower"]),
            upper=FloatArray(d["upper"]),
            score=FloatArray(d["score"]),
            anomalies=[
                HistoryAnomaly(
                    time=from_us(a["timestamp_us"]),
                    value=a["value"],
                    score=a["score"],
                    onset=a["onset"],
                    explanation=a["explanation"],
                )
                for a in d["anomalies"]
            ],
            episodes=d["episodes"],
            sensitivity=d["sensitivity"],
        )
