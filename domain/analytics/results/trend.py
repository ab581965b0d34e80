"""TREND: Mann-Kendall and Sen's slope."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from domain.analytics.results._base import AnalyticsKind, Json

__all__ = ["TrendDirection", "TrendResult"]


class TrendDirection(StrEnum):
    INCREASING = "increasing"
    DECREASING = "decreasing"
    NO_TREND = "no trend"


@dataclass(frozen=True, slots=True)
class TrendResult(Json):
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
