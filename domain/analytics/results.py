"""The typed result of each analysis kind, JSON-ready for the API and drawable by a frontend.

Times are epoch microseconds, like everything else in the domain; a value that could not
be computed is NaN in Python and null in JSON. Every result is a frozen value with
`to_dict()` and `from_dict()`; `RESULT_TYPES` maps a kind to its class.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, ClassVar, Self

from domain.analytics._codec import from_json, to_json

__all__ = [
    "RESULT_TYPES",
    "AnalyticsKind",
    "AnalyticsResult",
    "AuditMark",
    "BacktestScores",
    "CapacityResult",
    "CapacityStatus",
    "ChangeKind",
    "ChangePoint",
    "ChangePointsResult",
    "ComparisonResult",
    "CorrelatedSeries",
    "CorrelationResult",
    "DetectedPeriod",
    "ForecastModel",
    "ForecastResult",
    "Mover",
    "PeriodName",
    "PeriodSummary",
    "SeasonalityResult",
    "TrendDirection",
    "TrendResult",
]


class AnalyticsKind(StrEnum):
    TREND = "TREND"
    SEASONALITY = "SEASONALITY"
    CHANGE_POINTS = "CHANGE_POINTS"
    FORECAST = "FORECAST"
    CAPACITY = "CAPACITY"
    CORRELATION = "CORRELATION"
    COMPARISON = "COMPARISON"


class _Json:
    """to_dict/from_dict for a result dataclass; results add their `kind`."""

    __slots__ = ()
    kind: ClassVar[AnalyticsKind | None] = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = to_json(self)
        if self.kind is not None:
            data = {"kind": self.kind.value, **data}
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        return from_json(cls, data)


# -- TREND ----------------------------------------------------------------------------------


class TrendDirection(StrEnum):
    INCREASING = "increasing"
    DECREASING = "decreasing"
    NO_TREND = "no trend"


@dataclass(frozen=True, slots=True)
class TrendResult(_Json):
    """Mann-Kendall with the Hamed-Rao variance correction, and Sen's slope.

    Draw the line `intercept + slope_per_day * (t - start_us) / 1 day`; the band between the
    low and high slopes is the slope's 95% interval (Gilbert's rank method on the corrected
    variance). `significant` is `p_value < alpha`.
    """

    kind: ClassVar[AnalyticsKind] = AnalyticsKind.TREND
    tags: Mapping[str, str]
    start_us: int
    end_us: int
    n: int
    direction: TrendDirection
    significant: bool
    p_value: float
    z: float
    tau: float
    s: float
    var_s: float
    alpha: float
    slope_per_day: float
    slope_low_per_day: float
    slope_high_per_day: float
    intercept: float


# -- SEASONALITY ----------------------------------------------------------------------------


class PeriodName(StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class DetectedPeriod(_Json):
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
class SeasonalityResult(_Json):
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
        return {**_Json.to_dict(self), "none": self.none}


# -- CHANGE_POINTS --------------------------------------------------------------------------


class ChangeKind(StrEnum):
    LEVEL = "level"
    VARIANCE = "variance"
    LEVEL_AND_VARIANCE = "level_and_variance"


@dataclass(frozen=True, slots=True)
class AuditMark(_Json):
    """Something recorded near a change (a rule edited, a deploy marker), added by the caller."""

    time_us: int
    source: str
    summary: str
    ref: str | None = None


@dataclass(frozen=True, slots=True)
class ChangePoint(_Json):
    """The first bucket of a new segment, with the segments' statistics either side."""

    time_us: int
    index: int
    change: ChangeKind
    mean_before: float
    mean_after: float
    std_before: float
    std_after: float
    audit: tuple[AuditMark, ...] = ()


@dataclass(frozen=True, slots=True)
class ChangePointsResult(_Json):
    kind: ClassVar[AnalyticsKind] = AnalyticsKind.CHANGE_POINTS
    tags: Mapping[str, str]
    start_us: int
    end_us: int
    method: str
    penalty: float
    points: tuple[ChangePoint, ...]

    def with_audit(self, marks: Sequence[AuditMark], within_us: int) -> ChangePointsResult:
        """The same result with each mark within `within_us` of a change attached to it."""
        points = tuple(
            replace(
                point,
                audit=tuple(
                    sorted(
                        (m for m in marks if abs(m.time_us - point.time_us) <= within_us),
                        key=lambda m: abs(m.time_us - point.time_us),
                    )
                ),
            )
            for point in self.points
        )
        return replace(self, points=points)


# -- FORECAST -------------------------------------------------------------------------------


class ForecastModel(StrEnum):
    SEASONAL_NAIVE_DRIFT = "seasonal_naive_drift"
    THEIL_SEN = "theil_sen"
    DAMPED_ETS = "damped_ets"
    STL_ETS = "stl_ets"


@dataclass(frozen=True, slots=True)
class BacktestScores(_Json):
    """Rolling-origin backtest of one model over horizons 1..`horizon`.

    `mase` is the mean absolute error scaled by the in-sample one-period seasonal-naive
    error (below 1: better than that naive forecast); `relative_mae` the ratio to the
    seasonal-naive forecast from the same origins. Coverages are cross-fitted (intervals
    calibrated on half the origins, counted on the other half), so they are honest.
    """

    model: ForecastModel
    mase: float
    relative_mae: float
    smape: float
    coverage80: float
    coverage95: float
    origins: int
    horizon: int


@dataclass(frozen=True, slots=True)
class ForecastResult(_Json):
    """`mean[i]` (and its bands) is the bucket at `start_us + i * step_us`."""

    kind: ClassVar[AnalyticsKind] = AnalyticsKind.FORECAST
    tags: Mapping[str, str]
    model: ForecastModel
    period_buckets: int
    start_us: int
    step_us: int
    mean: tuple[float, ...]
    lower80: tuple[float, ...]
    upper80: tuple[float, ...]
    lower95: tuple[float, ...]
    upper95: tuple[float, ...]
    scores: BacktestScores
    candidates: tuple[BacktestScores, ...] = field(default=())


# -- CAPACITY -------------------------------------------------------------------------------


class CapacityStatus(StrEnum):
    ALREADY_CROSSED = "already_crossed"
    CROSSING = "crossing"  # the median path crosses within the horizon
    POSSIBLE = "possible"  # only the 95th-percentile path crosses within the horizon
    NOT_WITHIN_HORIZON = "not_within_horizon"


@dataclass(frozen=True, slots=True)
class CapacityResult(_Json):
    """When the series reaches its limit: p05 is the earliest plausible time (the upper
    band crosses), p50 the median path, p95 the latest (the lower band); None beyond the
    horizon. `trend_crossing_us` extrapolates the Sen slope of each period's peak past the
    horizon (no interval: the backtest cannot vouch for it)."""

    kind: ClassVar[AnalyticsKind] = AnalyticsKind.CAPACITY
    tags: Mapping[str, str]
    status: CapacityStatus
    limit: float | None
    limit_tags: Mapping[str, str] | None
    horizon_end_us: int
    p05_us: int | None
    p50_us: int | None
    p95_us: int | None
    trend_crossing_us: int | None
    model: ForecastModel


# -- CORRELATION ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CorrelatedSeries(_Json):
    """Two-sample Kolmogorov-Smirnov of the window against the baseline (D in [0, 1])."""

    tags: Mapping[str, str]
    statistic: float
    p_value: float
    window_mean: float
    baseline_mean: float
    window_points: int
    baseline_points: int


@dataclass(frozen=True, slots=True)
class CorrelationResult(_Json):
    """Series ranked by how much their distribution changed in the window, most first."""

    kind: ClassVar[AnalyticsKind] = AnalyticsKind.CORRELATION
    window_start_us: int
    window_end_us: int
    baseline_start_us: int
    baseline_end_us: int
    ranked: tuple[CorrelatedSeries, ...]


# -- COMPARISON -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeriodSummary(_Json):
    """Statistics of every bucket value of every series in one period."""

    start_us: int
    end_us: int
    count: int
    mean: float
    std: float
    min: float
    max: float
    sum: float
    quantiles: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Mover(_Json):
    """One group of `group_by` tag values, its mean in both periods, and the change."""

    tags: Mapping[str, str]
    baseline_mean: float
    current_mean: float
    delta: float
    relative: float


@dataclass(frozen=True, slots=True)
class ComparisonResult(_Json):
    """`current.quantiles[i]` is the value at quantile `quantile_levels[i]` (0.5: median)."""

    kind: ClassVar[AnalyticsKind] = AnalyticsKind.COMPARISON
    quantile_levels: tuple[float, ...]
    current: PeriodSummary
    baseline: PeriodSummary
    mean_delta: float
    mean_relative: float
    group_by: tuple[str, ...]
    movers: tuple[Mover, ...]


AnalyticsResult = (
    TrendResult
    | SeasonalityResult
    | ChangePointsResult
    | ForecastResult
    | CapacityResult
    | CorrelationResult
    | ComparisonResult
)

RESULT_TYPES: Mapping[AnalyticsKind, type[AnalyticsResult]] = {
    AnalyticsKind.TREND: TrendResult,
    AnalyticsKind.SEASONALITY: SeasonalityResult,
    AnalyticsKind.CHANGE_POINTS: ChangePointsResult,
    AnalyticsKind.FORECAST: ForecastResult,
    AnalyticsKind.CAPACITY: CapacityResult,
    AnalyticsKind.CORRELATION: CorrelationResult,
    AnalyticsKind.COMPARISON: ComparisonResult,
}
