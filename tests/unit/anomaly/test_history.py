"""Scoring history with the live detector: the ANOMALIES job and ANOMALY rule backtests."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from domain.alerting.model import AnomalySettings
from domain.anomaly.history import rule_input, score_history
from domain.anomaly.model import DetectorConfig
from domain.anomaly.read_models import AnomaliesResult

MINUTE = 60_000_000


@dataclass
class Grid:
    start_us: int
    step_us: int
    values: npt.NDArray[np.float64]
    tags: dict[str, str] = field(default_factory=dict)


def test_history_is_scored_as_live_with_a_band_and_the_spike_found() -> None:
    rng = random.Random(5)
    values = np.array([50 + rng.gauss(0, 1) for _ in range(600)])
    values[100] = math.nan  # a bucket without data
    values[400] = 70.0
    result = score_history(Grid(0, MINUTE, values, {"host": "h"}), DetectorConfig())
    (spike,) = result.anomalies
    assert (spike.timestamp_us, spike.value, spike.onset) == (400 * MINUTE, 70.0, True)
    assert spike.explanation.startswith("70.0 is ") and result.episodes == 1
    assert math.isnan(result.score[100]) and math.isnan(result.baseline[0])  # no data; learning
    assert 43 < result.lower[300] < result.baseline[300] < result.upper[300] < 57
    data = result.to_dict()
    assert data["kind"] == "ANOMALIES" and data["baseline"][100] is None
    assert AnomaliesResult.from_dict(data).to_dict() == data  # JSON round trip


def test_an_anomaly_rule_backtest_reads_each_series_with_its_own_detector() -> None:
    rng = random.Random(2)
    a, b = {"host": "a"}, {"host": "b"}
    points = [(tags, i * MINUTE, 10 + rng.gauss(0, 0.5)) for i in range(300) for tags in (a, b)]
    points.append((b, 300 * MINUTE, 30.0))
    found = rule_input(points, AnomalySettings(), emit_from_us=200 * MINUTE)
    assert len(found) == 201
    assert [(p[0], p[1]) for p in found if p[2] == 1.0] == [(b, 300 * MINUTE)]
