"""Anomaly command handlers: configuring a detection, carried out by the runtime that runs
its metric's detectors."""

from __future__ import annotations

from dataclasses import replace

from domain.anomaly.commands import ConfigureAnomalyDetectionCommand
from domain.anomaly.detection import AnomalyDetection, detection_id
from domain.anomaly.model import DetectorConfig
from domain.anomaly.ports import AnomalyRuntime, AnomalyStore
from domain.anomaly.read_models import AnomalyDetectionDto, DetectorStatus
from domain.errors import BadUserInput, Conflict
from domain.events import Event
from domain.metrics.ports import MetricStore
from domain.ports import Clock

__all__ = ["configure_anomaly_detection"]

MAX_MATCHERS = 20


async def configure_anomaly_detection(
    command: ConfigureAnomalyDetectionCommand,
    events: list[Event],
    *,
    anomalies: AnomalyStore,
    anomaly_runtime: AnomalyRuntime,
    metrics: MetricStore,
    clock: Clock,
) -> AnomalyDetectionDto:
    """Opt (project, metric, matchers) in, change its configuration, or opt out
    (`enabled=False`); the same metric and matchers always name the same detection."""
    try:
        config = DetectorConfig(command.sensitivity, command.direction, command.seasonality)
    except ValueError as exc:
        raise BadUserInput(str(exc)) from None
    if len(command.matchers) > MAX_MATCHERS:
        raise BadUserInput(f"a detection takes at most {MAX_MATCHERS} matchers")
    if await metrics.metric_names(command.project, command.metric, 1) != [command.metric]:
        raise BadUserInput(
            f"unknown metric {command.metric!r}: project {command.project!r} has no points of it"
        )
    did = detection_id(command.project, command.metric, command.matchers)
    now = clock.now_us()
    current = await anomalies.get_detection(command.project, did)
    if current is None:
        detection = AnomalyDetection(
            id=did,
            project=command.project,
            metric=command.metric,
            matchers=command.matchers,
            config=config,
            enabled=command.enabled,
            created_at_us=now,
            created_by=command.actor,
        )
        saved = await anomalies.save_detection(detection)
    else:
        detection = replace(
            current,
            config=config,
            enabled=command.enabled,
            updated_at_us=now,
            updated_by=command.actor,
            version=current.version + 1,
        )
        saved = await anomalies.save_detection(detection, expected_version=current.version)
    if not saved:
        latest = await anomalies.get_detection(command.project, did)
        raise Conflict("anomaly detection", latest.version if latest else 0)
    if detection.enabled:
        await anomaly_runtime.reload_detection(detection)
    else:
        await anomaly_runtime.remove_detection(detection)
    return AnomalyDetectionDto(detection, _detectors(anomaly_runtime, detection))


def _detectors(
    runtime: AnomalyRuntime, detection: AnomalyDetection
) -> tuple[DetectorStatus, ...] | None:
    found = runtime.detectors(detection.id) if detection.enabled else None
    return None if found is None else tuple(found)
