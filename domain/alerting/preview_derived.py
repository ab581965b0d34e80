"""The input of ANOMALY and FORECAST rules replayed over history, for `previewAlert`: the
same detectors and forecasts as live evaluation, over the stored points."""

from __future__ import annotations

from domain.alerting.evaluator import Point
from domain.alerting.model import AnomalySettings
from domain.alerting.points import read_points
from domain.alerting.ports import Forecaster, HistoryScorer
from domain.alerting.preview import MAX_PREVIEW_POINTS
from domain.alerting.rule import AlertRule
from domain.alerting.runtime.forecasts import forecast_values
from domain.errors import BadUserInput
from domain.metrics.ports import MetricStore

__all__ = ["MAX_FORECAST_EVALUATIONS", "WARMUP_US", "anomaly_points", "forecast_points"]

WARMUP_US = 86_400_000_000  # stored points before `from` that warm the detectors
MAX_FORECAST_EVALUATIONS = 200  # per preview: the evaluations are spread out beyond it


async def anomaly_points(
    metrics: MetricStore,
    scorer: HistoryScorer | None,
    project: str,
    rule: AlertRule,
    start_us: int,
    end_us: int,
) -> list[Point]:
    """Each stored point of [start, end) as the rule reads it (1.0: anomalous), scored by a
    detector per series that learned the day before `start` first."""
    if scorer is None:
        raise BadUserInput("anomaly previews are not available in this process")
    points = await read_points(
        metrics,
        project,
        rule.metric,
        matchers=rule.matchers,
        start_us=start_us - WARMUP_US,
        end_us=end_us,
        limit=MAX_PREVIEW_POINTS,
        over_limit=f"a preview replays at most {MAX_PREVIEW_POINTS} points; shorten the range",
    )
    return scorer(points, rule.anomaly or AnomalySettings(), emit_from_us=start_us)


async def forecast_points(
    metrics: MetricStore,
    forecaster: Forecaster | None,
    project: str,
    rule: AlertRule,
    start_us: int,
    end_us: int,
) -> list[Point]:
    """The rule's forecasts as live evaluation makes them (every window, from the history
    before that moment), at most MAX_FORECAST_EVALUATIONS of them over the range."""
    if forecaster is None:
        raise BadUserInput("forecast previews are not available in this process")
    every = max(rule.window_us, -(-(end_us - start_us) // MAX_FORECAST_EVALUATIONS))
    points: list[Point] = []
    at = start_us + every
    while at <= end_us:
        for tags, value in await forecast_values(metrics, forecaster, project, rule, at):
            points.append((tags, at, value))
        at += every
    return points
