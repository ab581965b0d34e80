"""Analytics read models: jobs (the RFC's AnalyticsDto), an analysis's result, and the
typed results other features read (a dashboard's forecast and change points)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.analytics.model import AnalyticsJob
from domain.analytics.results import AnalyticsKind, ChangePointsResult, ForecastResult
from domain.analytics.work import Item

__all__ = [
    "AnalysisResult",
    "AnalyticsJobDto",
    "AnalyticsKind",
    "ChangePointsResult",
    "ForecastResult",
]

AnalyticsJobDto = AnalyticsJob


@dataclass(frozen=True, slots=True)
class AnalysisResult:
    """Result items in order (one per series, or one for CORRELATION and COMPARISON);
    `total` counts every item of the result, of which this holds `offset`..."""

    kind: AnalyticsKind
    items: list[Item]
    total: int
    offset: int = 0

    @property
    def has_next_page(self) -> bool:
        return self.offset + len(self.items) < self.total
