"""Results over one series' history: TREND, SEASONALITY, CHANGE_POINTS."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.analytics.work import Item
from schema.scalars import FloatArray, Tags
from schema.types import from_us

__all__ = ["ChangePointsResult", "SeasonalityResult", "TrendResult"]


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
