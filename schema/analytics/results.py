"""The typed result of each analysis kind, as a frontend draws it (from the stored items).

Times are DateTime (epoch milliseconds in dense arrays, as charts take them), durations
seconds; a value that could not be computed is null.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from domain.analytics.results import AnalyticsKind
from domain.analytics.work import SKIPPED, Item
from schema.scalars import FloatArray, Tags
from schema.types import from_us

__all__ = ["AnalyticsItem", "SkippedSeries", "item_of"]


def _at(us: int | None) -> datetime | None:
    return None if us is None else from_us(us)


@strawberry.type(description="TREND: Mann-Kendall (Hamed-Rao corrected) and Sen's slope.")
class TrendResult:
    tags: Tags
    from_: datetime = strawberry.field(name="from")
    to: datetime
    n: int
    direction: str = strawberry.field(description="increasing, decreasing or no trend")
    significant: bool
    p_value: float | None
    z: float | None
    tau: float | None
    slope_per_day: float | None
    slope_low_per_day: float | None = strawberry.field(description="95% interval, low end")
    slope_high_per_day: float | None
    intercept: float | None = strawberry.field(description="The line's value at `from`.")
    alpha: float

    @classmethod
    def of(cls, d: Item) -> TrendResult:
        return cls(
            tags=Tags(d["tags"]),
            from_=from_us(d["start_us"]),
            to=from_us(d["end_us"]),
            n=d["n"],
            direction=d["direction"],
            significant=d["significant"],
            p_value=d["p_value"],
            z=d["z"],
            tau=d["tau"],
            slope_per_day=d["slope_per_day"],
            slope_low_per_day=d["slope_low_per_day"],
            slope_high_per_day=d["slope_high_per_day"],
            intercept=d["intercept"],
            alpha=d["alpha"],
        )


@strawberry.type(description="A period found: its strength and its average shape.")
class DetectedPeriod:
    name: str = strawberry.field(description="hour, day, week or other")
    period: float = strawberry.field(description="Seconds.")
    period_buckets: int
    strength: float = strawberry.field(description="STL seasonal strength, 0 to 1.")
    p_value: float | None
    profile_step: float = strawberry.field(description="Seconds between profile values.")
    profile: FloatArray = strawberry.field(description="Deviation from the mean over a period.")


@strawberry.type(description="SEASONALITY: periods strongest first; none when empty.")
class SeasonalityResult:
    tags: Tags
    from_: datetime = strawberry.field(name="from")
    to: datetime
    none: bool
    periods: list[DetectedPeriod]

    @classmethod
    def of(cls, d: Item) -> SeasonalityResult:
        return cls(
            tags=Tags(d["tags"]),
            from_=from_us(d["start_us"]),
            to=from_us(d["end_us"]),
            none=d["none"],
            periods=[
                DetectedPeriod(
                    name=p["name"],
                    period=p["period_us"] / 1e6,
                    period_buckets=p["period_buckets"],
                    strength=p["strength"],
                    p_value=p["p_value"],
                    profile_step=p["profile_step_us"] / 1e6,
                    profile=FloatArray(p["profile"]),
                )
                for p in d["periods"]
            ],
        )


@strawberry.type(description="Something recorded near a change: an audit entry or a marker.")
class AuditMark:
    time: datetime
    source: str = strawberry.field(description="audit or marker")
    summary: str
    ref: str | None


@strawberry.type(description="A shift: the first bucket of a new segment.")
class ChangePoint:
    time: datetime
    index: int
    change: str = strawberry.field(description="level, variance or level_and_variance")
    mean_before: float | None
    mean_after: float | None
    std_before: float | None
    std_after: float | None
    audit: list[AuditMark]


@strawberry.type(description="CHANGE_POINTS: level and variance shifts found by PELT.")
class ChangePointsResult:
    tags: Tags
    from_: datetime = strawberry.field(name="from")
    to: datetime
    method: str
    penalty: float
    points: list[ChangePoint]

    @classmethod
    def of(cls, d: Item) -> ChangePointsResult:
        return cls(
            tags=Tags(d["tags"]),
            from_=from_us(d["start_us"]),
            to=from_us(d["end_us"]),
            method=d["method"],
            penalty=d["penalty"],
            points=[
                ChangePoint(
                    time=from_us(p["time_us"]),
                    index=p["index"],
                    change=p["change"],
                    mean_before=p["mean_before"],
                    mean_after=p["mean_after"],
                    std_before=p["std_before"],
                    std_after=p["std_after"],
                    audit=[
                        AuditMark(
                            time=from_us(m["time_us"]),
                            source=m["source"],
                            summary=m["summary"],
                            ref=m["ref"],
                        )
                        for m in p["audit"]
                    ],
                )
                for p in d["points"]
            ],
        )


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


AnalyticsItem = Annotated[
    TrendResult
    | SeasonalityResult
    | ChangePointsResult
    | ForecastResult
    | CapacityResult
    | CorrelationResult
    | ComparisonResult,
    strawberry.union("AnalyticsItem", description="One result of an analysis, by its kind."),
]

_TYPES: dict[str, Any] = {
    AnalyticsKind.TREND.value: TrendResult,
    AnalyticsKind.SEASONALITY.value: SeasonalityResult,
    AnalyticsKind.CHANGE_POINTS.value: ChangePointsResult,
    AnalyticsKind.FORECAST.value: ForecastResult,
    AnalyticsKind.CAPACITY.value: CapacityResult,
    AnalyticsKind.CORRELATION.value: CorrelationResult,
    AnalyticsKind.COMPARISON.value: ComparisonResult,
}


def item_of(item: Item) -> Any:
    """The GraphQL type of a stored item: a result of its kind, or a SkippedSeries."""
    if item["kind"] == SKIPPED:
        return SkippedSeries(tags=Tags(item["tags"]), reason=item["reason"])
    return _TYPES[item["kind"]].of(item)
