"""The analysis kinds: each one's reading step and compute function, in one table.

A new kind (anomaly detection's ANOMALIES, say) is one more entry here, with its value
in `AnalyticsKind`, its result class in `RESULT_TYPES` and its GraphQL type in
schema/analytics/results.py; the runner, the job store, the synchronous query and the
API take it from there.
"""

from __future__ import annotations

from collections.abc import Mapping

from domain.analytics import prepare
from domain.analytics.results import AnalyticsKind
from domain.analytics.work import Item, Kind, Task
from infra.analytics import compute

__all__ = ["KINDS", "run_task"]

KINDS: Mapping[AnalyticsKind, Kind] = {
    AnalyticsKind.TREND: Kind(prepare.trend, compute.trend),
    AnalyticsKind.SEASONALITY: Kind(prepare.seasonality, compute.seasonality),
    AnalyticsKind.CHANGE_POINTS: Kind(prepare.change_points, compute.change_points),
    AnalyticsKind.FORECAST: Kind(prepare.forecast, compute.forecast),
    AnalyticsKind.CAPACITY: Kind(prepare.capacity, compute.capacity),
    AnalyticsKind.CORRELATION: Kind(prepare.correlation, compute.correlation),
    AnalyticsKind.COMPARISON: Kind(prepare.comparison, compute.comparison),
}


def run_task(task: Task) -> list[Item]:
    """What a worker process runs: the task's kind's compute function."""
    return KINDS[task.kind].compute(task)


def warm() -> int:
    """A no-op task: makes a fresh worker import everything before real work arrives."""
    return 0
