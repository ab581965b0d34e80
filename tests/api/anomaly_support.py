"""Anomaly test helpers: series with a known past, the GraphQL operations."""

from __future__ import annotations

import random
import time
from typing import Any

from tests.support import RunningVigil, token

ADMIN = token(demo="admin")
STEP_S = 10
CREATE_POINTS = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted } }"""
CONFIGURE = """mutation($p: String!, $i: AnomalyDetectionInput!) {
  configureAnomalyDetection(project: $p, input: $i) {
    id metric sensitivity threshold direction seasonality enabled version
    detectors { tags state seasonality modelAgePoints learning } } }"""
DETECTIONS = """query($p: String!) { anomalyDetections(project: $p) {
  id metric enabled detectors { tags state seasonality modelAgePoints learning } } }"""
ANOMALIES = """query($p: String!, $m: String!, $min: Float, $first: Int, $after: String,
                     $matchers: [TagMatcherInput!]) {
  anomalies(project: $p, metric: $m, minScore: $min, first: $first, after: $after,
            matchers: $matchers) {
    items { id metric tags at value baseline lower upper score pValue deviations direction
            seasonality modelAge state onset explanation }
    pageInfo { endCursor hasNextPage } contributors { key value anomalies share } } }"""
BAND = """query($p: String!, $m: String!, $from: DateTime, $to: DateTime, $step: String!) {
  anomalyBand(project: $p, metric: $m, from: $from, to: $to, step: $step) {
    timestamps series { tags baseline lower upper } } }"""
DETECTED = """subscription($p: String!) { anomalyDetected(project: $p, minScore: 50) {
  metric tags value baseline lower upper score pValue direction state onset explanation } }"""


def history(
    name: str, tags: dict[str, str], *, points: int, end_s: float, seed: int = 1
) -> list[dict[str, Any]]:
    """`points` values around 100 (sd 2), one every STEP_S seconds up to `end_s`."""
    rng = random.Random(seed)
    start = end_s - points * STEP_S
    return [
        {
            "name": name,
            "value": round(100 + rng.gauss(0, 2), 3),
            "tags": tags,
            "timestamp": _iso(start + i * STEP_S),
        }
        for i in range(points)
    ]


def _iso(seconds: float) -> str:
    return (
        time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{int(seconds % 1 * 1e6):06d}Z"
    )


def point(
    name: str, value: float, tags: dict[str, str], at_s: float | None = None
) -> dict[str, Any]:
    raw: dict[str, Any] = {"name": name, "value": value, "tags": tags}
    if at_s is not None:
        raw["timestamp"] = _iso(at_s)
    return raw


async def send(vigil: RunningVigil, points: list[dict[str, Any]], project: str = "demo") -> None:
    for i in range(0, len(points), 5_000):
        await vigil.ok(CREATE_POINTS, {"p": project, "points": points[i : i + 5_000]}, auth=ADMIN)


async def warmed(vigil: RunningVigil) -> None:
    """Every detector made so far has its history (or stored state)."""
    await vigil.app.state.vigil.runtimes.detectors.warmed()
