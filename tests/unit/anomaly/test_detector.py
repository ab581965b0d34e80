"""The streaming detector on seeded synthetic series."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC

import pytest

from domain.anomaly import (
    AnomalyDetector,
    DetectorConfig,
    Direction,
    ModelState,
    Scored,
    Seasonality,
    explain,
)

START_US = 1_700_006_400_000_000  # 2023-11-15 00:00 UTC, a Wednesday
MINUTE_US = 60_000_000


def noise(seed: int, n: int, mean: float = 100.0, sigma: float = 1.0) -> list[float]:
    rng = random.Random(seed)
    return [rng.gauss(mean, sigma) for _ in range(n)]


def run(values: list[float], step_us: int = MINUTE_US, **config: object) -> list[Scored]:
    detector = AnomalyDetector(DetectorConfig(**config))  # type: ignore[arg-type]
    return [detector.observe(START_US + i * step_us, v) for i, v in enumerate(values)]


def daily(seed: int, days: int, step_us: int = 5 * MINUTE_US) -> list[float]:
    rng = random.Random(seed)
    per_day = 86_400_000_000 // step_us
    return [
        50.0 + 30.0 * math.sin(2 * math.pi * i / per_day) + rng.gauss(0.0, 1.0)
        for i in range(days * per_day)
    ]


def test_a_spike_is_flagged_and_nothing_else() -> None:
    values = noise(1, 3000)
    values[2000] += 15.0
    scored = run(values)
    assert scored[2000].anomalous and scored[2000].onset
    assert scored[2000].direction is Direction.UP
    assert scored[2000].value > scored[2000].upper
    assert [i for i, s in enumerate(scored) if s.anomalous] == [2000]


def test_a_flat_series_scores_finitely_and_flags_nothing() -> None:
    scored = run([5.0] * 5000)
    assert all(math.isfinite(s.score) and math.isfinite(s.deviations) for s in scored)
    assert not any(s.anomalous for s in scored)
    assert scored[-1].lower <= 5.0 <= scored[-1].upper


def test_a_step_on_a_flat_series_is_flagged_once_and_does_not_stick() -> None:
    scored = run([5.0] * 2000 + [7.0] * 2000)
    assert scored[2000].onset
    assert all(math.isfinite(s.score) for s in scored)
    assert not any(s.anomalous for s in scored[2100:])


def test_counts_of_zeros_and_ones_are_not_flagged() -> None:
    rng = random.Random(3)
    values = [float(rng.random() < 0.05) for _ in range(5000)]
    scored = run(values)
    assert sum(s.anomalous for s in scored) == 0


def test_a_daily_pattern_becomes_seasonal_and_its_peak_is_not_flagged() -> None:
    values = daily(2, days=10)
    scored = run(values, step_us=5 * MINUTE_US)
    late = scored[3 * 288 :]
    assert all(s.state is ModelState.SEASONAL for s in late)
    assert all(s.seasonality is Seasonality.DAILY for s in late)
    assert not any(s.anomalous for s in late)


def test_a_daily_peak_at_night_is_flagged() -> None:
    values = daily(2, days=10)
    trough = 8 * 288 + 216  # 18:00 on day 9: the sine's lowest point
    values[trough] = 80.0  # the height of a normal noon, at the wrong time of day
    scored = run(values, step_us=5 * MINUTE_US)
    assert scored[trough].anomalous
    assert scored[trough].seasonality is Seasonality.DAILY


def test_direction_up_ignores_drops() -> None:
    values = noise(4, 3000)
    values[2000] -= 15.0
    values[2500] += 15.0
    scored = run(values, direction=Direction.UP)
    assert not scored[2000].anomalous
    assert scored[2500].anomalous


def test_sensitivity_orders_what_is_flagged() -> None:
    values = noise(5, 3000, sigma=1.0)
    for i in range(1000, 3000, 100):
        values[i] += 5.0 + (i - 1000) / 200  # spikes from 5 to 15 sigmas
    flagged = {
        sensitivity: sum(s.anomalous for s in run(values, sensitivity=sensitivity))
        for sensitivity in (20.0, 50.0, 80.0)
    }
    assert flagged[20.0] < flagged[50.0] < flagged[80.0]


def test_a_new_series_learns_then_has_a_band_within_15_minutes() -> None:
    scored = run(noise(6, 5), step_us=5 * MINUTE_US)
    assert scored[0].state is ModelState.LEARNING
    assert scored[0].learning is not None and scored[0].learning.points_needed > 0
    assert not scored[0].anomalous
    assert scored[3].state is ModelState.BASIC  # 15 minutes after the first point
    assert scored[3].lower < scored[3].baseline < scored[3].upper


def test_seeding_from_history_gives_a_band_at_once() -> None:
    hour = 60 * MINUTE_US
    history = daily(7, days=14, step_us=hour)
    stamps = [START_US + i * hour for i in range(len(history))]
    detector = AnomalyDetector()
    assert detector.seed(stamps, history, hour) == len(history)
    first = detector.observe(stamps[-1] + hour, history[0])
    assert first.state is ModelState.SEASONAL
    assert first.lower < first.value < first.upper
    assert first.model_age_points == len(history) + 1


def test_state_round_trips_exactly_through_json() -> None:
    values = daily(8, days=9)
    detector = AnomalyDetector(DetectorConfig(sensitivity=60.0, direction=Direction.DOWN))
    step = 5 * MINUTE_US
    for i, value in enumerate(values[:2000]):
        detector.observe(START_US + i * step, value)
    state = detector.to_state()
    text = json.dumps(state, allow_nan=False)
    assert len(text) < 8_000
    restored = AnomalyDetector.from_state(json.loads(text))
    assert restored.to_state() == state
    for i, value in enumerate(values[2000:], start=2000):
        assert restored.observe(START_US + i * step, value) == detector.observe(
            START_US + i * step, value
        )


def test_a_replayed_point_is_scored_but_not_learned_twice() -> None:
    detector = AnomalyDetector()
    for i, value in enumerate(noise(9, 100)):
        detector.observe(START_US + i * MINUTE_US, value)
    before = detector.to_state()
    again = detector.observe(START_US + 99 * MINUTE_US, 100.0)
    assert detector.to_state() == before
    assert again.model_age_points == 100


def test_non_finite_values_and_bad_config_are_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        AnomalyDetector().observe(START_US, math.nan)
    with pytest.raises(ValueError, match="sensitivity"):
        DetectorConfig(sensitivity=150.0)
    with pytest.raises(ValueError, match="direction"):
        DetectorConfig(direction=Direction.NONE)


def test_explain_says_how_far_and_against_which_usual_range() -> None:
    values = daily(10, days=10)
    values[-1] = 130.0
    scored = run(values, step_us=5 * MINUTE_US)[-1]
    words = explain(scored, UTC)
    assert words.startswith("130.0 is ")
    assert "deviations above the usual " in words
    assert words.endswith(" at 23:30")  # the half-hour of the day the point fell in
    inside = explain(run(noise(11, 50))[-1], UTC)
    assert " is within the usual " in inside
    learning = explain(run(noise(12, 1))[0], UTC)
    assert "still learning" in learning
