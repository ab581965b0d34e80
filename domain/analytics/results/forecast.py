"""FORECAST and CAPACITY: the chosen model's path, its bands and backtest; crossings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar

from domain.analytics.results._base import AnalyticsKind, Json

__all__ = ["BacktestScores", "CapacityResult", "CapacityStatus", "ForecastModel", "ForecastResult"]


class ForecastModel(StrEnum):
    SEASONAL_NAIVE_DRIFT = "seasonal_naive_drift"
    THEIL_SEN = "theil_sen"
    DAMPED_ETS = "damped_ets"
    STL_ETS = "stl_ets"


@dataclass(frozen=True, slots=True)
class BacktestScores(Json):
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
class ForecastResult(Json):
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


class CapacityStatus(StrEnum):
    ALREADY_CROSSED = "already_crossed"
    CROSSING = "crossing"  # the median path crosses within the horizon
    POSSIBLE = "possible"  # only the 95th-percentile path crosses within the horizon
    NOT_WITHIN_HORIZON = "not_within_horizon"


@dataclass(frozen=True, slots=True)
class CapacityResult(Json):
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
