"""The analysis kinds: each one's reading step and compute function, in one table.

A new kind is one more entry here (and in `COMPUTE`), with its value in `AnalyticsKind`,
its result class in `RESULT_TYPES` and its GraphQL type in schema/analytics/results/; the
runner, the job store, the synchronous query and the API take it from there. The table
is built from the settings a reading step needs (ANOMALIES: the time zone of its
explanations); worker processes only need `COMPUTE`.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from domain.analytics import prepare
from domain.analytics.results import AnalyticsKind
from domain.analytics.work import SKIPPED, Compute, Item, Kind, Prepare, StoredItem, Task
from infra.analytics import compute

__all__ = ["COMPUTE", "build_kinds", "run_task", "run_task_stored", "warm"]

COMPUTE: Mapping[AnalyticsKind, Compute] = {
    AnalyticsKind.TREND: compute.trend,
    AnalyticsKind.SEASONALITY: compute.seasonality,
    AnalyticsKind.CHANGE_POINTS: compute.change_points,
    AnalyticsKind.FORECAST: compute.forecast,
    AnalyticsKind.CAPACITY: compute.capacity,
    AnalyticsKind.CORRELATION: compute.correlation,
    AnalyticsKind.COMPARISON: compute.comparison,
    AnalyticsKind.ANOMALIES: compute.anomalies,
}


def build_kinds(*, anomaly_timezone: str) -> Mapping[AnalyticsKind, Kind]:
    """Every kind: its reading step (on the event loop) and its compute function."""
    reading: Mapping[AnalyticsKind, Prepare] = {
        AnalyticsKind.TREND: prepare.trend,
        AnalyticsKind.SEASONALITY: prepare.seasonality,
        AnalyticsKind.CHANGE_POINTS: prepare.change_points,
        AnalyticsKind.FORECAST: prepare.forecast,
        AnalyticsKind.CAPACITY: prepare.capacity,
        AnalyticsKind.CORRELATION: prepare.correlation,
        AnalyticsKind.COMPARISON: prepare.comparison,
        AnalyticsKind.ANOMALIES: prepare.anomalies(anomaly_timezone),
    }
    return {kind: Kind(reading[kind], COMPUTE[kind]) for kind in AnalyticsKind}


def run_task(task: Task) -> list[Item]:
    """What a worker process runs: the task's kind's compute function."""
    return COMPUTE[task.kind](task)


def run_task_stored(task: Task) -> list[StoredItem]:
    """`run_task` for a job: its items encoded here, in the worker, for the store."""
    stored = []
    for item in COMPUTE[task.kind](task):
        reason = item["reason"] if item["kind"] == SKIPPED else None
        stored.append(StoredItem(item["kind"], orjson.dumps(item), reason))
    return stored


def warm() -> int:
    """A no-op task: makes a fresh worker import everything before real work arrives."""
    return 0
