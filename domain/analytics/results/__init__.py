"""The typed result of each analysis kind, JSON-ready for the API and drawable by a frontend.

Times are epoch microseconds, like everything else in the domain; a value that could not
be computed is NaN in Python and null in JSON. Every result is a frozen value with
`to_dict()` and `from_dict()`; `RESULT_TYPES` maps a kind to its class. ANOMALIES' result
is anomaly detection's (`domain.anomaly.read_models.AnomaliesResult`): the job scores
history with the live detector, so the detector's feature owns what it answers.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.analytics.results._base import AnalyticsKind
from domain.analytics.results.change_points import (
    AuditMark,
    ChangeKind,
    ChangePoint,
    ChangePointsResult,
)
from domain.analytics.results.correlation import (
    ComparisonResult,
    CorrelatedSeries,
    CorrelationResult,
    Mover,
    PeriodSummary,
)
from domain.analytics.results.forecast import (
    BacktestScores,
    CapacityResult,
    CapacityStatus,
    ForecastModel,
    ForecastResult,
)
from domain.analytics.results.seasonality import DetectedPeriod, PeriodName, SeasonalityResult
from domain.analytics.results.trend import TrendDirection, TrendResult
from domain.anomaly.read_models import AnomaliesResult

__all__ = [
    "RESULT_TYPES",
    "AnalyticsKind",
    "AnalyticsResult",
    "AnomaliesResult",
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


AnalyticsResult = (
    TrendResult
    | SeasonalityResult
    | ChangePointsResult
    | ForecastResult
    | CapacityResult
    | CorrelationResult
    | ComparisonResult
    | AnomaliesResult
)

RESULT_TYPES: Mapping[AnalyticsKind, type[AnalyticsResult]] = {
    AnalyticsKind.TREND: TrendResult,
    AnalyticsKind.SEASONALITY: SeasonalityResult,
    AnalyticsKind.CHANGE_POINTS: ChangePointsResult,
    AnalyticsKind.FORECAST: ForecastResult,
    AnalyticsKind.CAPACITY: CapacityResult,
    AnalyticsKind.CORRELATION: CorrelationResult,
    AnalyticsKind.COMPARISON: ComparisonResult,
    AnalyticsKind.ANOMALIES: AnomaliesResult,
}
