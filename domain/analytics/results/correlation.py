"""CORRELATION and COMPARISON: what changed in a window, one period against another."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from domain.analytics.results._base import AnalyticsKind, Json

__all__ = ["ComparisonResult", "CorrelatedSeries", "CorrelationResult", "Mover", "PeriodSummary"]


@dataclass(frozen=True, slots=True)
class CorrelatedSeries(Json):
    """Two-sample Kolmogorov-Smirnov of the window against the baseline (D in [0, 1])."""

    tags: Mapping[str, str]
    statistic: float
    p_value: float
    window_mean: float
    baseline_mean: float
    window_points: int
    baseline_points: int


@dataclass(frozen=True, slots=True)
class CorrelationResult(Json):
    """Series ranked by how much their distribution changed in the window, most first."""

    kind: ClassVar[AnalyticsKind] = AnalyticsKind.CORRELATION
    window_start_us: int
    window_end_us: int
    baseline_start_us: int
    baseline_end_us: int
    ranked: tuple[CorrelatedSeries, ...]


@dataclass(frozen=True, slots=True)
class PeriodSummary(Json):
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
class Mover(Json):
    """One group of `group_by` tag values, its mean in both periods, and the change."""

    tags: Mapping[str, str]
    baseline_mean: float
    current_mean: float
    delta: float
    relative: float


@dataclass(frozen=True, slots=True)
class ComparisonResult(Json):
    """`current.quantiles[i]` is the value at quantile `quantile_levels[i]` (0.5: median)."""

    kind: ClassVar[AnalyticsKind] = AnalyticsKind.COMPARISON
    quantile_levels: tuple[float, ...]
    current: PeriodSummary
    baseline: PeriodSummary
    mean_delta: float
    mean_relative: float
    group_by: tuple[str, ...]
    movers: tuple[Mover, ...]
