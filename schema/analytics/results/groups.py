"""Results over many series: CORRELATION, COMPARISON, and a skipped series."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.analytics.work import Item
from schema.scalars import FloatArray, Tags
from schema.types import from_us

__all__ = ["ComparisonResult", "CorrelationResult", "SkippedSeries"]


@strawberry.type(description="A series ranked by how much its distribution changed.")
class CorrelatedSeries:
    name: str
    tags: Tags
    statistic: float = strawberry.field(description="Kolmogorov-Smirnov D, 0 to 1.")
    p_value: float | None
    window_mean: float | None
    baseline_mean: float | None
    window_points: int
    baseline_points: int


@strawberry.type(description="CORRELATION: the project's series that changed in the window.")
class CorrelationResult:
    window_from: datetime
    window_to: datetime
    baseline_from: datetime
    baseline_to: datetime
    ranked: list[CorrelatedSeries]

    @classmethod
    def of(cls, d: Item) -> CorrelationResult:
        return cls(
            window_from=from_us(d["window_start_us"]),
            window_to=from_us(d["window_end_us"]),
            baseline_from=from_us(d["baseline_start_us"]),
            baseline_to=from_us(d["baseline_end_us"]),
            ranked=[
                CorrelatedSeries(
                    name=r.get("name", ""),
                    tags=Tags(r["tags"]),
                    statistic=r["statistic"],
                    p_value=r["p_value"],
                    window_mean=r["window_mean"],
                    baseline_mean=r["baseline_mean"],
                    window_points=r["window_points"],
                    baseline_points=r["baseline_points"],
                )
                for r in d["ranked"]
            ],
        )


@strawberry.type(description="Statistics of every bucket of every series in one period.")
class PeriodSummary:
    from_: datetime = strawberry.field(name="from")
    to: datetime
    count: int
    mean: float | None
    std: float | None
    min: float | None
    max: float | None
    sum: float | None
    quantiles: FloatArray

    @classmethod
    def of(cls, d: dict[str, Any]) -> PeriodSummary:
        return cls(
            from_=from_us(d["start_us"]),
            to=from_us(d["end_us"]),
            count=d["count"],
            mean=d["mean"],
            std=d["std"],
            min=d["min"],
            max=d["max"],
            sum=d["sum"],
            quantiles=FloatArray(d["quantiles"]),
        )


@strawberry.type(description="A group whose mean moved between the periods.")
class Mover:
    tags: Tags
    baseline_mean: float | None
    current_mean: float | None
    delta: float | None
    relative: float | None


@strawberry.type(description="COMPARISON: a period against a baseline period.")
class ComparisonResult:
    quantile_levels: FloatArray
    current: PeriodSummary
    baseline: PeriodSummary
    mean_delta: float | None
    mean_relative: float | None
    group_by: list[str]
    movers: list[Mover]

    @classmethod
    def of(cls, d: Item) -> ComparisonResult:
        return cls(
            quantile_levels=FloatArray(d["quantile_levels"]),
            current=PeriodSummary.of(d["current"]),
            baseline=PeriodSummary.of(d["baseline"]),
            mean_delta=d["mean_delta"],
            mean_relative=d["mean_relative"],
            group_by=list(d["group_by"]),
            movers=[
                Mover(
                    tags=Tags(m["tags"]),
                    baseline_mean=m["baseline_mean"],
                    current_mean=m["current_mean"],
                    delta=m["delta"],
                    relative=m["relative"],
                )
                for m in d["movers"]
            ],
        )


@strawberry.type(description="A series the method could not analyse, and why.")
class SkippedSeries:
    tags: Tags
    reason: str
