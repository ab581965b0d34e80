"""DetectorPool against AnomalyDetector: the same points give the same scores and state."""

from __future__ import annotations

import math

import numpy as np
import pytest

from domain.anomaly.detector import AnomalyDetector
from domain.anomaly.model import DetectorConfig, Direction, Scored, Seasonality
from domain.anomaly.pool import DetectorPool

MINUTE_US = 60_000_000
START_US = 1_790_000_000_000_000


def series(kind: str, points: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(points)
    if kind == "daily":  # 10-minute points: 144 a day
        values = 50 + 20 * np.sin(2 * np.pi * t / 144) + rng.normal(0, 2, points)
    elif kind == "weekly":
        values = 100 + 30 * (t % 1008 < 288) + rng.normal(0, 3, points)
    elif kind == "flat":
        values = np.full(points, 7.0)
    elif kind == "counts":
        values = rng.poisson(0.3, points).astype(float)
    elif kind == "shift":
        values = rng.normal(10, 1, points) + 25 * (t > points // 2)
    else:
        values = np.cumsum(rng.normal(0, 1, points))
    spikes = rng.choice(points, size=max(points // 500, 1), replace=False)
    values[spikes] += rng.choice([-1, 1], size=len(spikes)) * 40 * (1 + np.abs(values[spikes]))
    return np.asarray(values, dtype=float)


CONFIGS = [
    DetectorConfig(),
    DetectorConfig(70.0, Direction.UP, Seasonality.AUTO),
    DetectorConfig(30.0, Direction.DOWN, Seasonality.DAILY),
    DetectorConfig(50.0, Direction.BOTH, Seasonality.WEEKLY),
    DetectorConfig(60.0, Direction.BOTH, Seasonality.NONE),
]
KINDS = ["daily", "weekly", "flat", "counts", "shift", "walk"]


def same(scored: Scored, expected: Scored) -> None:
    for name in Scored._fields:
        if name == "learning":
            continue
        got, want = getattr(scored, name), getattr(expected, name)
        if isinstance(want, float) and isinstance(got, float):
            assert math.isclose(got, want, rel_tol=1e-12, abs_tol=1e-12), name
        else:
            assert got == want, name


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.direction}-{c.seasonality}")
def test_rows_score_and_learn_as_the_detector_does(config: DetectorConfig) -> None:
    rng = np.random.default_rng(7)
    points = 3 * 1008 + 100  # three weeks of 10-minute points: both profiles take over
    data = [series(kind, points, rng) for kind in KINDS]
    pool = DetectorPool(capacity=2)  # grows on the way
    detectors = [AnomalyDetector(config) for _ in KINDS]
    rows = np.array([pool.take(d) for d in detectors])
    # A late start, a jitter of the step and a few repeated stamps per series.
    offsets = np.array([0, 3, 0, 7, 1, 0]) * MINUTE_US
    flagged = seasonal = 0
    for i in range(points):
        ts = START_US + i * 10 * MINUTE_US + offsets + rng.integers(0, 20, len(KINDS)) * 1_000_000
        if i % 997 == 5:
            ts = ts - 20 * MINUTE_US  # stale: scored, not learned
        values = np.array([d[i] for d in data])
        scores = pool.observe(rows, ts, values)
        for j, detector in enumerate(detectors):
            expected = detector.observe(int(ts[j]), float(values[j]))
            assert bool(scores.learning[j]) == (expected.learning is not None)
            if expected.learning is None:
                same(scores.scored(j, int(ts[j]), float(values[j])), expected)
                flagged += expected.anomalous
                seasonal += expected.seasonality is not Seasonality.NONE
    assert flagged > 0
    if config.seasonality is not Seasonality.NONE:
        assert seasonal > 0
    assert pool.states(rows) == [d.to_state() for d in detectors]
    for row, detector in zip(rows, detectors, strict=True):
        assert pool.export(int(row)).to_state() == detector.to_state()


def test_rows_load_export_and_give_back() -> None:
    detector = AnomalyDetector(DetectorConfig(80.0, Direction.UP))
    for i in range(500):
        detector.observe(START_US + i * MINUTE_US, float(i % 13))
    pool = DetectorPool(capacity=1)
    other = pool.take(AnomalyDetector())
    row = pool.take(detector)
    assert len(pool) == 2
    assert pool.export(row).to_state() == detector.to_state()
    pool.configure(row, DetectorConfig(20.0, Direction.UP))
    assert pool.export(row).config.sensitivity == 20.0
    pool.give_back(other)
    assert len(pool) == 1
    with pytest.raises(KeyError):
        pool.config(other)
