"""Scoring history with the live detector: the ANOMALIES analytics job (`score_history`) and
the backtest of ANOMALY alert rules (`indicators`). Pure functions, no I/O."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, tzinfo
from typing import Protocol

import numpy as np
import numpy.typing as npt

from domain.alerting.model import AnomalySettings
from domain.anomaly.detector import AnomalyDetector
from domain.anomaly.explain import explain
from domain.anomaly.model import DetectorConfig, Direction, ModelState, Seasonality
from domain.anomaly.read_models import AnomaliesResult, HistoryAnomaly

__all__ = ["GridLike", "indicators", "rule_input", "score_history"]

Point = tuple[Mapping[str, str], int, float]
NAN = math.nan


class GridLike(Protocol):
    """What `score_history` reads of the analytics Grid (domain/analytics/series.py)."""

    @property
    def start_us(self) -> int: ...

    @property
    def step_us(self) -> int: ...

    @property
    def values(self) -> npt.NDArray[np.float64]: ...

    @property
    def tags(self) -> Mapping[str, str]: ...


def score_history(grid: GridLike, config: DetectorConfig, *, tz: tzinfo = UTC) -> AnomaliesResult:
    """Every bucket of the grid through a fresh detector, oldest first, as the live detector
    would score points arriving at those times (missing buckets are skipped: NaN out).

    A user backtests a sensitivity here before enabling detection: the anomalies are the
    buckets whose score reaches the configured threshold."""
    n = len(grid.values)
    baseline = np.full(n, NAN)
    lower = np.full(n, NAN)
    upper = np.full(n, NAN)
    score = np.full(n, NAN)
    found: list[HistoryAnomaly] = []
    detector = AnomalyDetector(config)
    for i, value in enumerate(grid.values.tolist()):
        if not math.isfinite(value):
            continue
        scored = detector.observe(grid.start_us + i * grid.step_us, value)
        if scored.state is ModelState.LEARNING:
            continue
        baseline[i], lower[i], upper[i], score[i] = (
            scored.baseline,
            scored.lower,
            scored.upper,
            scored.score,
        )
        if scored.anomalous:
            found.append(
                HistoryAnomaly(
                    scored.timestamp_us,
                    value,
                    scored.score,
                    scored.onset,
                    explain(scored, tz),
                )
            )
    return AnomaliesResult(
        tags=dict(grid.tags),
        start_us=grid.start_us,
        step_us=grid.step_us,
        baseline=tuple(baseline.tolist()),
        lower=tuple(lower.tolist()),
        upper=tuple(upper.tolist()),
        score=tuple(score.tolist()),
        anomalies=tuple(found),
        episodes=sum(1 for a in found if a.onset),
        sensitivity=config.sensitivity,
    )


def indicators(
    points: Iterable[Point],
    *,
    min_score: float,
    direction: Direction,
    seasonality: Seasonality,
    emit_from_us: int,
) -> list[Point]:
    """An ANOMALY rule's input replayed: each point of each series (by its tags) scored by
    its own detector in time order, as 1.0 when its score reaches `min_score`, else 0.0.
    Points before `emit_from_us` only warm the detectors."""
    config = DetectorConfig(direction=direction, seasonality=seasonality)
    by_series: dict[tuple[tuple[str, str], ...], list[Point]] = {}
    for point in points:
        by_series.setdefault(tuple(sorted(point[0].items())), []).append(point)
    out: list[Point] = []
    for series in by_series.values():
        series.sort(key=lambda p: p[1])
        detector = AnomalyDetector(config)
        for tags, ts_us, value in series:
            if not math.isfinite(value):
                continue
            scored = detector.observe(ts_us, value)
            if ts_us >= emit_from_us:
                out.append((tags, ts_us, 1.0 if scored.score >= min_score else 0.0))
    out.sort(key=lambda p: p[1])
    return out


def rule_input(
    points: Sequence[Point], settings: AnomalySettings, *, emit_from_us: int
) -> list[Point]:
    """`indicators` with an ANOMALY rule's settings: alerting's HistoryScorer port."""
    return indicators(
        points,
        min_score=settings.min_score,
        direction=settings.direction,
        seasonality=settings.seasonality,
        emit_from_us=emit_from_us,
    )
