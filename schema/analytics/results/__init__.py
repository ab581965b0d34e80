"""The typed result of each analysis kind, as a frontend draws it (from the stored items).

Times are DateTime (epoch milliseconds in dense arrays, as charts take them), durations
seconds; a value that could not be computed is null.
"""

from __future__ import annotations

from typing import Annotated, Any

import strawberry

from domain.analytics.results import AnalyticsKind
from domain.analytics.work import SKIPPED, Item
from schema.analytics.results.anomalies import AnomaliesResult
from schema.analytics.results.forecast import CapacityResult, ForecastResult
from schema.analytics.results.groups import ComparisonResult, CorrelationResult, SkippedSeries
from schema.analytics.results.series import ChangePointsResult, SeasonalityResult, TrendResult
from schema.scalars import Tags

__all__ = ["AnalyticsItem", "SkippedSeries", "item_of"]


AnalyticsItem = Annotated[
    TrendResult
    | SeasonalityResult
    | ChangePointsResult
    | ForecastResult
    | CapacityResult
    | CorrelationResult
    | ComparisonResult
    | AnomaliesResult,
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
    AnalyticsKind.ANOMALIES.value: AnomaliesResult,
}


def item_of(item: Item) -> Any:
    """The GraphQL type of a stored item: a result of its kind, or a SkippedSeries."""
    if item["kind"] == SKIPPED:
        return SkippedSeries(tags=Tags(item["tags"]), reason=item["reason"])
    return _TYPES[item["kind"]].of(item)
