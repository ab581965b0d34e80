"""Results that look ahead: FORECAST and CAPACITY."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.analytics.work import Item
from schema.scalars import FloatArray, Tags
from schema.types import from_us

__all__ = ["CapacityResult", "ForecastResult"]


def _at(us: int | None) -> datetime | None:
    return None if us is None else from_us(us)


@strawberry.type(description="A model's rolling-origin backtest scores.")
class BacktestScores:
    model: str
    mase: float | None = strawberry.field(description="Below 1: better than seasonal naive.")
    relative_mae: float | None
    smape: float | None
    coverage80: float | None
    coverage95: float | None
    origins: int
    horizon: int

    @classmethod
    def of(cls, d: dict[str, Any]) -> BacktestScores:
        return cls(**{k: d[k] for k in _SCORES})


_SCORES = (
    "model",
    "mase",
    "relative_mae",
    "smape",
    "coverage80",
    "coverage95",
    "origins",
    "horizon",
)


@strawberry.type(description="FORECAST: the chosen model's path with 80% and 95% bands.")
class ForecastResult:
    tags: Tags
    model: str
    period_buckets: int
    start: datetime = strawberry.field(description="The first forecast bucket.")
    step: float = strawberry.field(description="Seconds per bucket.")
    timestamps: FloatArray = strawberry.field(description="Bucket starts, epoch milliseconds.")
    mean: FloatArray
    lower80: FloatArray
    upper80: FloatArray
    lower95: FloatArray
    upper95: FloatArray
    scores: BacktestScores
    candidates: list[BacktestScores]

    @classmethod
    def of(cls, d: Item) -> ForecastResult:
        start, step = d["start_us"], d["step_us"]
        return cls(
            tags=Tags(d["tags"]),
            model=d["model"],
            period_buckets=d["period_buckets"],
            start=from_us(start),
            step=step / 1e6,
            timestamps=FloatArray([(start + i * step) // 1000 for i in range(len(d["mean"]))]),
            mean=FloatArray(d["mean"]),
            lower80=FloatArray(d["lower80"]),
            upper80=FloatArray(d["upper80"]),
            lower95=FloatArray(d["lower95"]),
            upper95=FloatArray(d["upper95"]),
            scores=BacktestScores.of(d["scores"]),
            candidates=[BacktestScores.of(c) for c in d["candidates"]],
        )


@strawberry.type(description="CAPACITY: when the series reaches its limit (null: not within).")
class CapacityResult:
    tags: Tags
    status: str = strawberry.field(
        description="already_crossed, crossing, possible or not_within_horizon"
    )
    limit: float | None
    limit_tags: Tags | None
    horizon_end: datetime
    p05: datetime | None = strawberry.field(description="Earliest plausible crossing.")
    p50: datetime | None
    p95: datetime | None = strawberry.field(description="Latest plausible crossing.")
    trend_crossing: datetime | None = strawberry.field(
        description="The peaks' Sen line extended past the horizon (no interval)."
    )
    model: str

    @classmethod
    def of(cls, d: Item) -> CapacityResult:
        return cls(
            tags=Tags(d["tags"]),
            status=d["status"],
            limit=d["limit"],
            limit_tags=None if d["limit_tags"] is None else Tags(d["limit_tags"]),
            horizon_end=from_us(d["horizon_end_us"]),
            p05=_at(d["p05_us"]),
            p50=_at(d["p50_us"]),
            p95=_at(d["p95_us"]),
            trend_crossing=_at(d["trend_crossing_us"]),
            model=d["model"],
        )
