"""Anomaly operations: configure detection, list anomalies, bands for charts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from domain.anomaly.queries import (
    GetAnomalyBandQuery,
    ListAnomaliesQuery,
    ListAnomalyDetectionsQuery,
)
from domain.durations import parse_step
from schema.anomaly import (
    AnomalyBand,
    AnomalyConnection,
    AnomalyDetection,
    AnomalyDetectionInput,
)
from schema.context import Info
from schema.inputs import TagMatcherInput, matchers_of
from schema.types import to_us

__all__ = ["anomalies", "anomaly_band", "anomaly_detections", "configure_anomaly_detection"]

DEFAULT_RANGE_US = 86_400_000_000  # a day
DEFAULT_BAND_RANGE_US = 3_600_000_000  # an hour, as a chart opens
From = Annotated[datetime | None, strawberry.argument(name="from")]


async def configure_anomaly_detection(
    info: Info, project: str, input: AnomalyDetectionInput
) -> AnomalyDetection:
    """Opt a metric (and matchers) in to anomaly detection, change it, or opt out
    (`enabled: false`); each series it selects gets a detector, seeded from its history."""
    principal = info.context.require_principal()
    dto = await info.context.bus.handle(
        input.to_command(project, principal.subject),
        actor=principal.subject,
        request_id=info.context.request_id,
    )
    return AnomalyDetection.of(dto)


async def anomaly_detections(info: Info, project: str) -> list[AnomalyDetection]:
    found = await info.context.bus.ask(ListAnomalyDetectionsQuery(project))
    return [AnomalyDetection.of(d) for d in found]


async def anomalies(
    info: Info,
    project: str,
    metric: str,
    matchers: list[TagMatcherInput] | None = None,
    from_: From = None,
    to: datetime | None = None,
    min_score: float = 0.0,
    first: int = 100,
    after: str | None = None,
) -> AnomalyConnection:
    """Scored anomalies of [from, to) (default: the day before now), newest first, each
    with its explanation; `contributors` weighs the tags of the series involved."""
    end = to_us(to) or info.context.clock.now_us()
    start = to_us(from_) or end - DEFAULT_RANGE_US
    page = await info.context.bus.ask(
        ListAnomaliesQuery(
            project, metric, matchers_of(matchers), start, end, min_score, first, after
        )
    )
    return AnomalyConnection.of(page)


async def anomaly_band(
    info: Info,
    project: str,
    metric: str,
    matchers: list[TagMatcherInput] | None = None,
    from_: From = None,
    to: datetime | None = None,
    step: str = "1m",
) -> AnomalyBand:
    """Baseline, lower and upper arrays per series, on the same grid as metricSeries."""
    end = to_us(to) or info.context.clock.now_us()
    start = to_us(from_) or end - DEFAULT_BAND_RANGE_US
    result = await info.context.bus.ask(
        GetAnomalyBandQuery(project, metric, start, end, parse_step(step), matchers_of(matchers))
    )
    return AnomalyBand.of(result)
