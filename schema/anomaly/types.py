"""Anomaly output types: detections and their detectors, scored anomalies, bands."""

from __future__ import annotations

import math
from datetime import datetime

import strawberry

from domain.anomaly import read_models as reads
from domain.anomaly.records import AnomalyRecord
from schema.anomaly.inputs import AnomalyDirection, DetectorState, Seasonality
from schema.scalars import FloatArray, Tags
from schema.types import MatchOp, PageInfo, from_us

__all__ = [
    "Anomaly",
    "AnomalyBand",
    "AnomalyConnection",
    "AnomalyDetection",
    "BandLine",
    "DetectionMatcher",
    "Detector",
    "TagContribution",
]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


@strawberry.type
class DetectionMatcher:
    key: str
    op: MatchOp
    value: str


@strawberry.type(description="One series' detector.")
class Detector:
    tags: Tags
    state: DetectorState  # type: ignore[valid-type]
    seasonality: Seasonality  # type: ignore[valid-type]
    model_age: float = strawberry.field(description="Seconds of history learned.")
    model_age_points: int
    learning: str | None = strawberry.field(description="While LEARNING: why there is no band.")
    points_needed: int
    seconds_needed: float

    @classmethod
    def of(cls, d: reads.DetectorStatus) -> Detector:
        return cls(
            tags=Tags(dict(d.tags)),
            state=d.state,
            seasonality=d.seasonality,
            model_age=d.model_age_seconds,
            model_age_points=d.model_age_points,
            learning=d.learning,
            points_needed=d.points_needed,
            seconds_needed=d.seconds_needed,
        )


@strawberry.type(description="Anomaly detection on a metric: each selected series is scored.")
class AnomalyDetection:
    id: strawberry.ID
    project: str
    metric: str
    matchers: list[DetectionMatcher]
    sensitivity: float
    threshold: float = strawberry.field(description="The score from which a point is anomalous.")
    direction: AnomalyDirection  # type: ignore[valid-type]
    seasonality: Seasonality  # type: ignore[valid-type]
    enabled: bool
    version: int
    created_at: datetime
    created_by: str
    updated_at: datetime | None
    updated_by: str
    detectors: list[Detector] | None = strawberry.field(
        description="The live detectors; null when another Vigil process runs them."
    )

    @classmethod
    def of(cls, dto: reads.AnomalyDetectionDto) -> AnomalyDetection:
        d = dto.detection
        return cls(
            id=strawberry.ID(d.id),
            project=d.project,
            metric=d.metric,
            matchers=[
                DetectionMatcher(key=m.key, op=MatchOp(m.op), value=m.value) for m in d.matchers
            ],
            sensitivity=d.config.sensitivity,
            threshold=d.config.threshold,
            direction=d.config.direction,
            seasonality=d.config.seasonality,
            enabled=d.enabled,
            version=d.version,
            created_at=from_us(d.created_at_us),
            created_by=d.created_by,
            updated_at=None if d.updated_at_us is None else from_us(d.updated_at_us),
            updated_by=d.updated_by,
            detectors=None if dto.detectors is None else [Detector.of(x) for x in dto.detectors],
        )


@strawberry.type(description="A scored point at least its detector's threshold.")
class Anomaly:
    id: str = strawberry.field(description="Its cursor in lists.")
    metric: str
    tags: Tags
    at: datetime
    value: float
    baseline: float
    lower: float | None
    upper: float | None
    score: float = strawberry.field(description="0-100: -10 log10(pValue).")
    p_value: float
    deviations: float | None
    direction: AnomalyDirection  # type: ignore[valid-type]
    seasonality: Seasonality  # type: ignore[valid-type]
    model_age: float
    model_age_points: int
    state: DetectorState  # type: ignore[valid-type]
    onset: bool = strawberry.field(description="The first anomalous point of an episode.")
    explanation: str

    @classmethod
    def of(cls, r: AnomalyRecord) -> Anomaly:
        return cls(
            id=r.cursor,
            metric=r.metric,
            tags=Tags(dict(r.tags)),
            at=from_us(r.timestamp_us),
            value=r.value,
            baseline=r.baseline,
            lower=_finite(r.lower),
            upper=_finite(r.upper),
            score=r.score,
            p_value=r.p_value,
            deviations=_finite(r.deviations),
            direction=r.direction,
            seasonality=r.seasonality,
            model_age=r.model_age_seconds,
            model_age_points=r.model_age_points,
            state=r.state,
            onset=r.onset,
            explanation=r.explanation,
        )


@strawberry.type(description="A tag value and its share of the anomalies' total score.")
class TagContribution:
    key: str
    value: str
    anomalies: int
    score: float
    share: float


@strawberry.type
class AnomalyConnection:
    items: list[Anomaly]
    page_info: PageInfo
    contributors: list[TagContribution] = strawberry.field(
        description="The tags whose series carried the most anomaly score (first page only)."
    )

    @classmethod
    def of(cls, page: reads.AnomalyPage) -> AnomalyConnection:
        items = [Anomaly.of(r) for r in page.items]
        return cls(
            items=items,
            page_info=PageInfo(
                end_cursor=items[-1].id if items else None, has_next_page=page.has_next_page
            ),
            contributors=[
                TagContribution(
                    key=c.key, value=c.value, anomalies=c.anomalies, score=c.score, share=c.share
                )
                for c in page.contributors
            ],
        )


@strawberry.type
class BandLine:
    tags: Tags
    baseline: FloatArray
    lower: FloatArray
    upper: FloatArray


@strawberry.type(description="The band of each series, on the chart grid of metricSeries.")
class AnomalyBand:
    timestamps: FloatArray = strawberry.field(description="Bucket starts, epoch milliseconds.")
    series: list[BandLine]

    @classmethod
    def of(cls, dto: reads.AnomalyBandDto) -> AnomalyBand:
        return cls(
            timestamps=FloatArray([t // 1000 for t in dto.timestamps_us]),
            series=[
                BandLine(
                    tags=Tags(dict(s.tags)),
                    baseline=FloatArray(s.baseline),
                    lower=FloatArray(s.lower),
                    upper=FloatArray(s.upper),
                )
                for s in dto.series
            ],
        )
