"""Rule preview (backtest): the same evaluator as live, so both agree on the same stream."""

from __future__ import annotations

import random

import pytest

from domain.alerting import (
    AlertState,
    FlappingSettings,
    NoDataPolicy,
    RuleAggregation,
    RuleEvaluator,
    Transition,
    preview,
)
from domain.errors import BadUserInput
from domain.matchers import MatchOp, TagMatcher
from tests.unit.alerting.support import S, moves, rule

RULE = rule(
    aggregation=RuleAggregation.AVG,
    window_us=30 * S,
    for_us=20 * S,
    warning_threshold=80.0,
    recovery_threshold=60.0,
    keep_firing_for_us=10 * S,
    no_data_policy=NoDataPolicy.NODATA,
    no_data_after_us=60 * S,
    flapping=FlappingSettings(history=10, low=0.2, high=0.5),
    matchers=(TagMatcher("env", MatchOp.EQ, "prod"),),
)


def stream() -> list[tuple[dict[str, str], int, float]]:
    """Two hosts over 15 minutes: waves crossing the levels, a silence, some jitter."""
    rng = random.Random(3)
    points = []
    for second in range(0, 900, 5):
        for host, phase in (("a", 0), ("b", 200)):
            if host == "b" and 400 <= second < 520:
                continue  # b goes silent for two minutes
            level = (50, 85, 100, 85)[(second + phase) // 120 % 4] + rng.uniform(-8, 8)
            points.append(({"host": host, "env": "prod"}, second * S + rng.randint(0, S), level))
    points.append(({"host": "a", "env": "dev"}, 100 * S, 1000.0))  # not matched: skipped
    return points


def live(points: list[tuple[dict[str, str], int, float]], tick_s: int) -> list[Transition]:
    """What the running service would do: points in time order, ticks in between."""
    evaluator = RuleEvaluator(RULE)
    out: list[Transition] = []
    next_tick = tick_s * S
    for tags, ts, value in sorted(points, key=lambda p: p[1]):
        while next_tick <= ts:
            out += evaluator.tick(next_tick)
            next_tick += tick_s * S
        if evaluator.matches("cpu", tags):
            out += evaluator.observe(tags, ts, value)
    while next_tick <= 900 * S:
        out += evaluator.tick(next_tick)
        next_tick += tick_s * S
    return out


def test_preview_equals_live_evaluation_on_the_same_stream() -> None:
    points = stream()

    result = preview(RULE, reversed(points), start_us=0, end_us=900 * S, tick_us=10 * S)

    expected = live(points, 10)
    assert list(result.transitions) == expected
    assert list(result.notifications) == [t for t in expected if t.notify]
    reached = {t.to_state for t in result.transitions}
    assert {AlertState.PENDING, AlertState.FIRING, AlertState.RESOLVED} <= reached
    assert AlertState.NODATA in reached  # b's silence
    assert {t.reason for t in result.transitions} >= {"severity raised", "severity lowered"}
    assert {t.instance_key for t in result.transitions} == {("a",), ("b",)}


def test_preview_replays_only_the_range_and_reports_final_states() -> None:
    points = [({"host": "a", "env": "prod"}, t * S, 95.0) for t in range(0, 100, 5)]

    result = preview(RULE, points, start_us=50 * S, end_us=80 * S, tick_us=10 * S)

    assert moves(list(result.transitions)) == [
        (50, "ok", "pending", "threshold crossed"),
        (70, "pending", "firing", "pending period elapsed"),
    ]
    assert [(s.key, s.state) for s in result.instances] == [(("a",), AlertState.FIRING)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start_us": 0, "end_us": 10, "tick_us": 0}, "tick must be a positive"),
        ({"start_us": 10, "end_us": 10, "tick_us": 1}, "end must be after its start"),
        ({"start_us": 0, "end_us": 10**12, "tick_us": 1}, "at most 100000 ticks"),
    ],
)
def test_bad_preview_ranges(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(BadUserInput, match=message):
        preview(RULE, [], **kwargs)
