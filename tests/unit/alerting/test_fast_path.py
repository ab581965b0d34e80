"""The fast path changes nothing a user can see: RuleEvaluator and Cohort against the full
state machine (ReferenceEvaluator: every point through machine.evaluate), over random
rules and random streams, per semantic."""

from __future__ import annotations

import math
import random
from collections.abc import Callable

import pytest

from domain.alerting import (
    AlertRule,
    AlertState,
    InstanceState,
    InvalidTransition,
    Observation,
    RuleAggregation,
    RuleEvaluator,
    Transition,
    evaluate,
)
from domain.alerting.evaluator import Cohort
from domain.alerting.quiet import quiet_range
from domain.alerting.windows import observe_batch
from domain.errors import BadUserInput, NotFound
from tests.unit.alerting.reference import ReferenceEvaluator
from tests.unit.alerting.scenarios import SEMANTICS, Op, random_ops, random_rule, sibling_rules

S = 1_000_000
SEEDS = range(12)
Outcome = list[Transition] | type[Exception]


def same(a: object, b: object) -> bool:
    """Equal, NaN included (an ERROR transition carries the NaN that caused it)."""
    return repr(a) == repr(b)


def _outcome(call: Callable[[], list[Transition]]) -> Outcome:
    try:
        return call()
    except (InvalidTransition, BadUserInput, NotFound) as exc:
        return type(exc)


def _apply(evaluator: RuleEvaluator | ReferenceEvaluator, op: Op) -> Outcome:
    key = (op.host,)
    if op.kind == "tick":
        return evaluator.tick(op.at_us)
    if op.kind == "ack":
        if isinstance(evaluator, RuleEvaluator):
            return _outcome(
                lambda: evaluator.acknowledge(key, op.at_us, by="alice", until_us=op.until_us)
            )
        return _outcome(lambda: evaluator.acknowledge(key, op.at_us, op.until_us))
    if op.kind == "resolve":
        if isinstance(evaluator, RuleEvaluator):
            return _outcome(lambda: evaluator.resolve(key, op.at_us, by="bob"))
        return _outcome(lambda: evaluator.resolve(key, op.at_us))
    return evaluator.observe({"host": op.host}, op.at_us, op.value)


@pytest.mark.parametrize("semantic", SEMANTICS)
def test_one_rule_matches_the_full_machine_step_by_step(semantic: str) -> None:
    fast_points = 0
    for seed in SEEDS:
        rng = random.Random(f"{semantic}-{seed}")
        rule = random_rule(rng, semantic)
        fast, full = RuleEvaluator(rule), ReferenceEvaluator(rule)
        for n, op in enumerate(random_ops(rng, 300)):
            assert same(_apply(fast, op), _apply(full, op)), (seed, n, op, rule)
            if op.kind == "point" and (op.host,) in fast.cohort._fresh:
                fast_points += 1
            if rng.random() < 0.2:  # reading folds the noted values: read only sometimes
                assert same(dict(fast.instances), full.instances), (seed, n, op, rule)
        assert same(dict(fast.instances), full.instances)
        assert fast.clock_us == full.clock
    if semantic != "equality":  # == has no quiet range when OK: always the full machine
        assert fast_points > 100, "the fast path was hardly taken: the test proves little"


@pytest.mark.parametrize("semantic", SEMANTICS)
def test_rules_sharing_a_window_each_match_their_own_full_machine(semantic: str) -> None:
    for seed in SEEDS:
        rng = random.Random(f"cohort-{semantic}-{seed}")
        rules = sibling_rules(rng, semantic, rng.choice((2, 3, 5)))
        members = [RuleEvaluator(r) for r in rules]
        cohort = members[0].cohort
        for member in members[1:]:
            cohort.join(member)
        references = [ReferenceEvaluator(r) for r in rules]
        # No late points: one too late for the shared buffer is dropped for every member
        # (see the decision record); the rest is exactly as if each rule were alone.
        for n, op in enumerate(random_ops(rng, 250, late=0.0)):
            if op.kind == "point" and rng.random() < 0.5:  # the engine's way: in a batch
                route = ({"host": op.host}, [cohort])
                moved = observe_batch([route], [0], [op.at_us], [op.value])
            elif op.kind == "point":
                moved = cohort.observe({"host": op.host}, op.at_us, op.value)
            if op.kind == "point":
                for member, reference in zip(members, references, strict=True):
                    mine = [t for m, t in moved if m is member]
                    assert same(mine, _apply(reference, op)), (seed, n, op, member.rule)
                continue
            if op.kind == "tick" and rng.random() < 0.7:  # the engine's tick: all at once
                ticked = cohort.tick(op.at_us)
                for member, reference in zip(members, references, strict=True):
                    mine = [t for m, t in ticked if m is member]
                    assert same(mine, _apply(reference, op)), (seed, n, op, member.rule)
                    if rng.random() < 0.2:  # reading folds the noted values: only sometimes
                        assert same(dict(member.instances), reference.instances), (seed, n)
                continue
            which = rng.randrange(len(members)) if op.kind != "tick" else None
            for i, (member, reference) in enumerate(zip(members, references, strict=True)):
                if which is None or i == which:
                    assert same(_apply(member, op), _apply(reference, op)), (seed, n, op)
                else:  # the one difference: a cohort shares one clock (see the decision)
                    reference.advance(op.at_us)
        for member, reference in zip(members, references, strict=True):
            assert same(dict(member.instances), reference.instances), (seed, member.rule)


def test_a_quiet_value_changes_only_the_value_and_the_last_point() -> None:
    """The proof obligation itself, on the states random streams reach."""
    admitted = 0
    for seed in SEEDS:
        for semantic in SEMANTICS:
            rng = random.Random(f"quiet-{semantic}-{seed}")
            rule = random_rule(rng, semantic)
            reference = ReferenceEvaluator(rule)
            for op in random_ops(rng, 120):
                _apply(reference, op)
                for state in reference.instances.values():
                    admitted += _check_quiet(rng, state, rule)
    assert admitted > 1_000


def _check_quiet(rng: random.Random, state: InstanceState, rule: AlertRule) -> int:
    quiet = quiet_range(state, rule)
    if quiet is None:
        return 0
    admitted = 0
    base = state.since_us or 0
    candidates = [rule.threshold, rule.warning_threshold, rule.recovery_threshold, quiet.lo]
    for _ in range(6):
        near = rng.choice([c for c in candidates if c is not None and math.isfinite(c)] or [90.0])
        value = rng.choice((near, math.nextafter(near, math.inf), near + rng.uniform(-20, 20)))
        now = base + rng.choice((0, 1, 3, 9, 30)) * S
        point = (state.last_point_us or 0) + rng.choice((-S, 0, S))
        if not quiet.admits(value, now):
            continue
        admitted += 1
        last = state.last_point_us
        expected = state.evolve(
            value=value, last_point_us=point if last is None else max(last, point)
        )
        assert evaluate(state, Observation(value, point_us=point), rule, now) == (expected, [])
    return admitted


def test_ten_thresholds_on_one_window_fire_one_by_one() -> None:
    rules = [
        AlertRule(
            name=f"over {100 + n}",
            metric="cpu",
            threshold=100.0 + n,
            aggregation=RuleAggregation.LAST,
            window_us=10 * S,
            group_by=("host",),
        )
        for n in range(10)
    ]
    members = [RuleEvaluator(r) for r in rules]
    cohort = Cohort(rules[0])
    for member in members:
        cohort.join(member)

    for t in range(20):
        assert cohort.observe({"host": "a"}, t * S, 50.0) == []
    moved = cohort.observe({"host": "a"}, 20 * S, 104.5)

    assert [(m.rule.threshold, t.to_state) for m, t in moved] == [
        (100.0 + n, AlertState.FIRING) for n in range(5)
    ]
    assert all(m.windows is cohort.windows for m in members)  # one buffer for ten rules
    assert cohort.windows.points(("a",)) == 10  # (10 s, 20 s]
    assert [m.instances[("a",)].value for m in members] == [104.5] * 10
