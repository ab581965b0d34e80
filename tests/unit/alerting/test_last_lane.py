"""The LAST lane changes nothing a user can see: one RuleIndex with the lane and one
without (every point through `observe_batch`) fed the same random batches, ticks,
acknowledgements and resolves give the same transitions, states and aggregates."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from typing import Any

import pytest

from domain.alerting import (
    Alert,
    AlertRule,
    Condition,
    InvalidTransition,
    RuleAggregation,
    RuleEvaluator,
)
from domain.alerting.last_lane import REST_BATCHES
from domain.alerting.runtime.index import RuleIndex, RunningRule
from domain.errors import BadUserInput, NotFound
from domain.metrics.events import MetricCollectedEvent
from tests.unit.alerting.scenarios import (
    HOSTS,
    SEMANTICS,
    Op,
    random_ops,
    random_rule,
    sibling_rules,
)

S = 1_000_000
SEEDS = range(10)
LAST = RuleAggregation.LAST


def same(a: object, b: object) -> bool:
    return repr(a) == repr(b)


def _rules(rng: random.Random, semantic: str) -> list[AlertRule]:
    """Three LAST rules sharing a window, a LAST rule over every host at once (no group),
    and a rule of another aggregation beside them on the same series."""
    window = rng.choice((3, 10)) * S
    rules = sibling_rules(rng, semantic, 3)
    rules = [replace(r, aggregation=LAST, window_us=window) for r in rules]
    rules.append(random_rule(rng, semantic, aggregation=LAST, group_by=()))
    rules.append(random_rule(rng, semantic, aggregation=RuleAggregation.MAX))
    return rules


def _index(rules: list[AlertRule], *, lane: bool) -> RuleIndex:
    index = RuleIndex()
    index.use_lane = lane
    for n, rule in enumerate(rules):
        alert = Alert(f"a{n}", "p", rule, 0, "alice")
        index.add(RunningRule(alert, RuleEvaluator(rule)))
    return index


def _batches(rng: random.Random, ops: list[Op]) -> list[list[Op]]:
    """The ops with runs of points grouped into batches (several points of one host in a
    batch among them)."""
    out: list[list[Op]] = []
    for op in ops:
        if op.kind == "point" and out and out[-1][0].kind == "point" and rng.random() < 0.7:
            out[-1].append(op)
        else:
            out.append([op])
    return out


def _event(points: list[Op]) -> MetricCollectedEvent:
    series = [{"id": HOSTS.index(h), "name": "cpu", "tags": {"host": h}} for h in HOSTS]
    return MetricCollectedEvent(
        "p",
        series,
        [HOSTS.index(p.host) for p in points],
        [p.at_us for p in points],
        [p.value for p in points],
    )


def _apply(index: RuleIndex, ops: list[Op]) -> Any:
    op = ops[0]
    if op.kind == "point":
        return [(r.alert.id, t) for r, t in index.observe(_event(ops))]
    out: list[Any] = []
    for running in index:
        evaluator = running.evaluator
        key = (op.host,) if evaluator.rule.group_by else ()
        try:
            if op.kind == "tick":
                out.append(evaluator.tick(op.at_us))
            elif op.kind == "ack":
                out.append(evaluator.acknowledge(key, op.at_us, by="a", until_us=op.until_us))
            else:
                out.append(evaluator.resolve(key, op.at_us, by="b"))
        except (InvalidTransition, BadUserInput, NotFound) as exc:
            out.append(type(exc))
    return out


def _seen(index: RuleIndex, at_us: int) -> list[Any]:
    """Each rule's states, clock and late points, and each group's aggregate at `at_us`."""
    out = []
    for running in index:
        evaluator = running.evaluator
        cohort = evaluator.cohort
        groups = sorted(evaluator.windows.groups())
        out.append(
            (
                dict(evaluator.instances),
                evaluator.clock_us,
                evaluator.windows.dropped_late,
                [(g, cohort.aggregate(g, max(at_us, cohort.clock_us or 0))) for g in groups],
            )
        )
    return out


@pytest.mark.parametrize("semantic", SEMANTICS)
def test_batches_through_the_lane_match_observe_batch(semantic: str) -> None:
    taken = 0
    for seed in SEEDS:
        rng = random.Random(f"lane-{semantic}-{seed}")
        rules = _rules(rng, semantic)
        laned, plain = _index(rules, lane=True), _index(rules, lane=False)
        laned._lane.rest_batches = seed % 3  # a refused cohort sits out 0, 1 or 2 batches
        ops = random_ops(rng, 400, late=0.08)
        for n, batch in enumerate(_batches(rng, ops)):
            assert same(_apply(laned, batch), _apply(plain, batch)), (seed, n, batch)
            if rng.random() < 0.15:  # reading takes the lane's points back: only sometimes
                at = batch[-1].at_us
                assert same(_seen(laned, at), _seen(plain, at)), (seed, n)
        assert same(_seen(laned, ops[-1].at_us), _seen(plain, ops[-1].at_us)), seed
        taken += laned._lane.points_taken
    if semantic != "equality":  # == has no quiet range when OK: never the lane
        assert taken > 1000


def _hot(threshold: float) -> AlertRule:
    return AlertRule(
        name="hot",
        metric="cpu",
        condition=Condition.GT,
        threshold=threshold,
        aggregation=LAST,
        window_us=10 * S,
        group_by=("host",),
    )


def test_a_quiet_stream_is_taken_by_the_lane_and_folded_when_read() -> None:
    rule = _hot(threshold=1e9)
    laned = _index([rule, replace(rule, threshold=2e9)], lane=True)
    plain = _index([rule, replace(rule, threshold=2e9)], lane=False)
    first = [Op("point", 0, "a", 1.0), Op("point", 0, "b", 2.0)]
    for index in (laned, plain):
        index.observe(_event(first))  # no instance yet: the full machine makes them
    for second in range(1, 30):
        points = [Op("point", second * S, h, float(second + n)) for n, h in enumerate("ab")]
        assert laned.observe(_event(points)) == plain.observe(_event(points)) == []
    lane = laned._lane
    assert len(lane._attached) == 1  # the cohort's points wait in the lane
    cohort = next(iter(laned)).evaluator.cohort
    noted = cohort._fresh.get(("a",))  # the batches before the lane took the cohort's
    assert noted is None or noted[0] != 29.0  # the lane holds the newest value
    assert same(_seen(laned, 29 * S), _seen(plain, 29 * S))
    assert lane._attached == {}
    states = next(iter(laned)).evaluator.instances
    assert states[("a",)].value == 29.0 and states[("b",)].value == 30.0
    assert states[("a",)].last_point_us == 29 * S
    # the lane buffered the newest point of the run only: the older ones can never be LAST
    plain_windows = plain._by_id["a0"].evaluator.windows
    assert len(cohort.windows._groups[("a",)]) < len(plain_windows._groups[("a",)])


def test_a_crossing_in_a_batch_fires_as_without_the_lane() -> None:
    rule = _hot(threshold=90.0)
    laned, plain = _index([rule], lane=True), _index([rule], lane=False)
    stream = [[Op("point", s * S, h, 50.0) for h in "abc"] for s in range(5)]
    stream.append([Op("point", 5 * S, "a", 50.0), Op("point", 5 * S, "b", 95.0)])
    stream.append([Op("point", 6 * S, "b", math.nan), Op("point", 6 * S, "c", 50.0)])
    for points in stream:
        a = [(r.alert.id, t) for r, t in laned.observe(_event(points))]
        b = [(r.alert.id, t) for r, t in plain.observe(_event(points))]
        assert same(a, b)
    assert same(_seen(laned, 6 * S), _seen(plain, 6 * S))
    states = next(iter(laned)).evaluator.instances
    assert states[("b",)].state.name == "ERROR"


def test_a_refused_cohort_sits_out_a_few_batches_then_returns_to_the_lane() -> None:
    index = _index([_hot(threshold=1e9)], lane=True)
    lane = index._lane
    taken = []
    for second in range(REST_BATCHES + 4):  # the first batch makes the instances: refused
        index.observe(_event([Op("point", second * S, h, 1.0) for h in "ab"]))
        taken.append(lane.points_taken)
    assert taken[REST_BATCHES - 1] == 0  # its points went through observe_batch meanwhile
    assert taken[-1] == 2 * 4
