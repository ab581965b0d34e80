"""RuleEvaluator: streaming per point, ticks, one instance per group, snapshot and restore."""

from __future__ import annotations

import json

import pytest

from domain.alerting import (
    AlertState,
    Condition,
    FlappingSettings,
    NoDataPolicy,
    Reason,
    RuleAggregation,
    RuleEvaluator,
)
from domain.errors import NotFound
from domain.matchers import MatchOp, TagMatcher
from tests.unit.alerting.support import S, moves, rule

OK, PENDING, FIRING = AlertState.OK, AlertState.PENDING, AlertState.FIRING
RESOLVED, NODATA = AlertState.RESOLVED, AlertState.NODATA
R = Reason


def host(name: str, **extra: str) -> dict[str, str]:
    return {"host": name, **extra}


def test_a_crossing_is_seen_at_the_point_not_at_the_next_tick() -> None:
    evaluator = RuleEvaluator(rule(aggregation=RuleAggregation.LAST))

    assert evaluator.observe(host("a"), 10 * S, 50) == []
    [fired] = evaluator.observe(host("a"), 11 * S, 95)

    assert (fired.at_us, fired.to_state, fired.value, fired.threshold) == (11 * S, FIRING, 95, 90)


def test_two_hosts_have_independent_instances() -> None:
    evaluator = RuleEvaluator(rule(aggregation=RuleAggregation.LAST, for_us=20 * S))
    out = []
    for t in range(0, 50, 10):
        out += evaluator.observe(host("a"), t * S, 95)  # a holds throughout
        out += evaluator.observe(host("b"), t * S, 95 if t < 20 else 50)  # b stops at 20

    assert [(t.instance_key, *m) for t, m in zip(out, moves(out), strict=True)] == [
        (("a",), 0, OK, PENDING, R.CROSSED),
        (("b",), 0, OK, PENDING, R.CROSSED),
        (("a",), 20, PENDING, FIRING, R.PENDING_ELAPSED),
        (("b",), 20, PENDING, OK, R.CLEARED),
    ]
    assert {k: s.state for k, s in evaluator.instances.items()} == {("a",): FIRING, ("b",): OK}


def test_series_of_one_group_are_aggregated_together() -> None:
    r = rule(aggregation=RuleAggregation.AVG, group_by=("dc",))
    evaluator = RuleEvaluator(r)
    assert evaluator.observe({"dc": "eu", "host": "a"}, 0, 70) == []
    [fired] = evaluator.observe({"dc": "eu", "host": "b"}, 1 * S, 112)  # avg 91

    assert fired.instance_key == ("eu",) and fired.value == 91


def test_a_tick_moves_time_based_parts_without_points() -> None:
    evaluator = RuleEvaluator(
        rule(aggregation=RuleAggregation.LAST, for_us=30 * S, no_data_after_us=300 * S)
    )
    evaluator.observe(host("a"), 0, 95)

    assert evaluator.tick(20 * S) == []
    [fired] = evaluator.tick(30 * S)  # the window still holds 95: `for` has elapsed
    assert evaluator.tick(61 * S) == []  # the point left the window: a gap decides nothing
    [resolved] = evaluator.observe(host("a"), 62 * S, 50)

    assert moves([fired, resolved]) == [
        (30, PENDING, FIRING, R.PENDING_ELAPSED),
        (62, FIRING, RESOLVED, R.CLEARED),
    ]


def test_window_expiry_is_a_gap_until_the_no_data_period() -> None:
    r = rule(no_data_after_us=120 * S, no_data_policy=NoDataPolicy.NODATA)
    evaluator = RuleEvaluator(r)
    evaluator.observe(host("a"), 0, 95)

    assert evaluator.tick(90 * S) == []  # empty window, no data for 90 s < 120 s: a gap
    [nodata] = evaluator.tick(120 * S)

    assert (nodata.from_state, nodata.to_state, nodata.reason) == (FIRING, NODATA, R.NO_DATA)


def test_count_sees_an_empty_window_as_zero_not_as_a_gap() -> None:
    r = rule(
        aggregation=RuleAggregation.COUNT,
        condition=Condition.LT,
        threshold=1.0,
        no_data_after_us=600 * S,
    )
    evaluator = RuleEvaluator(r)
    evaluator.observe(host("a"), 0, 1.0)

    [fired] = evaluator.tick(61 * S)

    assert (fired.to_state, fired.value) == (FIRING, 0.0)


def test_no_data_default_period_is_the_window() -> None:
    evaluator = RuleEvaluator(rule(window_us=30 * S))
    evaluator.observe(host("a"), 0, 50)

    assert evaluator.tick(29 * S) == []
    assert moves(evaluator.tick(30 * S)) == [(30, OK, NODATA, R.NO_DATA)]


def test_quiet_instances_whose_series_went_away_are_forgotten() -> None:
    evaluator = RuleEvaluator(rule(no_data_policy=NoDataPolicy.OK, window_us=10 * S))
    evaluator.observe(host("ok"), 0, 50)
    evaluator.observe(host("firing"), 0, 95)

    assert moves(evaluator.tick(10 * S)) == [(10, FIRING, RESOLVED, R.NO_DATA)]
    assert set(evaluator.instances) == {("firing",)}  # the ok one went at once
    assert evaluator.windows.groups() == [("firing",)]

    evaluator.tick(19 * S)
    assert set(evaluator.instances) == {("firing",)}  # resolved stays visible a while
    evaluator.tick(20 * S)
    assert evaluator.instances == {}


def test_time_never_goes_back_a_late_point_is_evaluated_at_the_latest_time() -> None:
    evaluator = RuleEvaluator(rule(aggregation=RuleAggregation.MAX))
    evaluator.observe(host("a"), 100 * S, 50)
    evaluator.tick(105 * S)

    [fired] = evaluator.observe(host("a"), 99 * S, 96)  # late, but inside the window

    assert (fired.at_us, fired.to_state, fired.value) == (105 * S, FIRING, 96)
    assert evaluator.clock_us == 105 * S
    assert evaluator.instances[("a",)].last_point_us == 100 * S


def test_a_point_too_late_for_the_window_changes_nothing() -> None:
    evaluator = RuleEvaluator(rule(aggregation=RuleAggregation.MAX))
    evaluator.observe(host("a"), 100 * S, 50)

    assert evaluator.observe(host("a"), 40 * S, 99) == []
    assert evaluator.windows.dropped_late == 1


def test_matches_checks_the_metric_name_and_the_matchers() -> None:
    evaluator = RuleEvaluator(rule(matchers=(TagMatcher("env", MatchOp.REGEX, "prod|staging"),)))

    assert evaluator.matches("cpu", {"env": "prod"})
    assert not evaluator.matches("cpu", {"env": "dev"})
    assert not evaluator.matches("mem", {"env": "prod"})


def test_acknowledge_and_resolve_by_instance_key() -> None:
    evaluator = RuleEvaluator(rule())
    evaluator.observe(host("a"), 0, 95)

    [acked] = evaluator.acknowledge(("a",), 5 * S, by="alice", comment="on it", until_us=60 * S)
    [resolved] = evaluator.resolve(("a",), 6 * S, by="alice", comment="done")

    assert (acked.to_state, resolved.to_state) == (AlertState.ACKNOWLEDGED, RESOLVED)
    assert evaluator.instances[("a",)].state is RESOLVED
    with pytest.raises(NotFound, match="no alert instance"):
        evaluator.resolve(("zz",), 7 * S, by="alice")


FULL_RULE = rule(
    aggregation=RuleAggregation.AVG,
    for_us=10 * S,
    warning_threshold=80.0,
    recovery_threshold=60.0,
    keep_firing_for_us=20 * S,
    flapping=FlappingSettings(history=6, low=0.2, high=0.6),
    window_us=15 * S,
)


def _busy_evaluator() -> RuleEvaluator:
    evaluator = RuleEvaluator(FULL_RULE)
    for t in range(0, 60, 5):
        evaluator.observe(host("a"), t * S, 95)
        evaluator.observe(host("b"), t * S, 85 if t < 40 else 70)
        evaluator.observe(host("c"), t * S, 50)
    evaluator.tick(60 * S)
    evaluator.acknowledge(("a",), 61 * S, by="alice", comment="on it", until_us=900 * S)
    return evaluator


def test_snapshot_is_json_ready_and_restores_equal_states() -> None:
    evaluator = _busy_evaluator()

    snapshot = json.loads(json.dumps(evaluator.snapshot()))
    restored = RuleEvaluator.restore(FULL_RULE, snapshot)

    assert dict(restored.instances) == dict(evaluator.instances)
    assert restored.snapshot() == evaluator.snapshot()
    assert restored.clock_us == max(s.last_point_us or 0 for s in evaluator.instances.values())
    states = {k: (s.state, s.severity) for k, s in restored.instances.items()}
    assert states == {
        ("a",): ("acknowledged", "critical"),
        ("b",): (FIRING, "warning"),
        ("c",): (OK, None),
    }


def test_a_restored_evaluator_carries_on_like_the_original() -> None:
    original = _busy_evaluator()
    restored = RuleEvaluator.restore(FULL_RULE, original.snapshot())
    # the restored windows are empty: refill them from "the store", then go on together
    for t in range(0, 60, 5):
        restored.prime([(host("a"), t * S, 95), (host("b"), t * S, 85 if t < 40 else 70)])
        restored.prime([(host("c"), t * S, 50)])
    later = [(host(h), t * S, v) for t in range(65, 200, 5) for h, v in (("a", 40), ("b", 95))]

    for tags, ts, value in later:
        assert original.observe(tags, ts, value) == restored.observe(tags, ts, value)
    for t in range(200, 400, 10):
        assert original.tick(t * S) == restored.tick(t * S)
    assert original.snapshot() == restored.snapshot()
