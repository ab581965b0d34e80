"""What one scored batch gives: derived series for ANOMALY rules, anomalies, band rows."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import tzinfo
from typing import Any

from domain.anomaly.events import AnomalyDetectedEvent
from domain.anomaly.explain import explain
from domain.anomaly.model import Scored
from domain.anomaly.records import AnomalyRecord, BandRow
from domain.metrics.events import MetricCollectedEvent

__all__ = ["Derived", "band_row", "event_of", "record_of"]


class Derived:
    """One derived series batch (an ANOMALY family's 0/1 points), built column by column
    like a MetricCollectedEvent."""

    __slots__ = ("name", "positions", "series", "series_index", "timestamps", "values")

    def __init__(self, name: str) -> None:
        self.name = name
        self.series: list[dict[str, Any]] = []
        self.positions: dict[int, int] = {}
        self.series_index: list[int] = []
        self.timestamps: list[int] = []
        self.values: list[float] = []

    def add(self, series_id: int, tags: Mapping[str, str], ts_us: int, value: float) -> None:
        at = self.positions.get(series_id)
        if at is None:
            at = self.positions[series_id] = len(self.series)
            self.series.append({"id": series_id, "name": self.name, "tags": tags})
        self.series_index.append(at)
        self.timestamps.append(ts_us)
        self.values.append(value)

    def event(self, project: str) -> MetricCollectedEvent:
        return MetricCollectedEvent(
            project, self.series, self.series_index, self.timestamps, self.values
        )


def record_of(
    project: str,
    metric: str,
    series_id: int,
    tags: Mapping[str, str],
    scored: Scored,
    tz: tzinfo,
) -> AnomalyRecord:
    return AnomalyRecord(
        project=project,
        metric=metric,
        series_id=series_id,
        tags=dict(tags),
        timestamp_us=scored.timestamp_us,
        value=scored.value,
        baseline=scored.baseline,
        lower=scored.lower,
        upper=scored.upper,
        score=scored.score,
        p_value=scored.p_value,
        deviations=scored.deviations,
        direction=scored.direction,
        seasonality=scored.seasonality,
        state=scored.state,
        model_age_points=scored.model_age_points,
        model_age_seconds=scored.model_age_seconds,
        onset=scored.onset,
        explanation=explain(scored, tz),
    )


def event_of(record: AnomalyRecord) -> AnomalyDetectedEvent:
    return AnomalyDetectedEvent(
        project=record.project,
        metric=record.metric,
        series_id=record.series_id,
        tags=dict(record.tags),
        at_us=record.timestamp_us,
        value=record.value,
        baseline=record.baseline,
        lower=_finite(record.lower),
        upper=_finite(record.upper),
        score=record.score,
        p_value=record.p_value,
        deviations=_finite(record.deviations),
        direction=record.direction.value,
        seasonality=record.seasonality.value,
        state=record.state.value,
        model_age_points=record.model_age_points,
        model_age_seconds=record.model_age_seconds,
        onset=record.onset,
        explanation=record.explanation,
    )


def band_row(
    project: str,
    metric: str,
    series_id: int,
    tags: Mapping[str, str],
    bucket_us: int,
    sums: list[float],
    points: int,
) -> BandRow:
    return BandRow(
        project,
        metric,
        series_id,
        dict(tags),
        bucket_us,
        sums[0] / points,
        sums[1] / points,
        sums[2] / points,
        points,
    )


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None
