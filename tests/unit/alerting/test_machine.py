"""The alert state machine beyond the table: records, notifications, refusals, purity."""

from __future__ import annotations

import math
from typing import Any

import pytest

from domain.alerting import (
    AlertSeverity,
    AlertState,
    InstanceState,
    InvalidTransition,
    Observation,
    Reason,
    Transition,
    evaluate,
)
from domain.errors import BadUserInput
from tests.unit.alerting.support import GAP, KEY, NODATA, Ack, Input, Resolve, S, rule, run

OK, PENDING, FIRING = AlertState.OK, AlertState.PENDING, AlertState.FIRING
ACKED, RESOLVED = AlertState.ACKNOWLEDGED, AlertState.RESOLVED
NODATA_STATE, ERROR = AlertState.NODATA, AlertState.ERROR
R = Reason
NAN = math.nan


def test_a_transition_records_value_threshold_severity_and_time() -> None:
    r = rule(warning_threshold=80.0, for_us=10 * S)

    _, transitions = run(r, [(0, 85), (10, 95), (20, 60)])

    assert transitions == [
        Transition(KEY, OK, PENDING, 0, 85, 80.0, R.CROSSED, AlertSeverity.WARNING),
        Transition(
            KEY, PENDING, FIRING, 10 * S, 95, 90.0, R.PENDING_ELAPSED, AlertSeverity.CRITICAL, True
        ),
        # a resolve names the level that had to be passed and the severity that ended
        Transition(
            KEY, FIRING, RESOLVED, 20 * S, 60, 80.0, R.CLEARED, AlertSeverity.CRITICAL, True
        ),
    ]


def test_a_resolve_with_hysteresis_names_the_recovery_threshold() -> None:
    _, transitions = run(rule(recovery_threshold=70.0), [(0, 95), (10, 65)])

    assert (transitions[-1].value, transitions[-1].threshold) == (65, 70.0)


def test_the_instance_carries_its_severity_and_keeps_it_in_the_hysteresis_band() -> None:
    r = rule(warning_threshold=80.0, recovery_threshold=70.0)
    severities = []
    state = InstanceState(key=KEY)
    for at, value in [(0, 95), (10, 85), (20, 75), (30, 95), (40, 60)]:
        state, _ = evaluate(state, Observation(value), r, at * S)
        severities.append(state.severity)

    assert severities == ["critical", "warning", "warning", "critical", None]


def test_the_info_severity_is_carried_when_the_rule_says_so() -> None:
    state, transitions = run(rule(severity=AlertSeverity.INFO), [(0, 95)])

    assert state.severity is AlertSeverity.INFO
    assert transitions[0].severity is AlertSeverity.INFO


NOTIFY_CASES: dict[str, tuple[dict[str, Any], list[tuple[int, Input]], list[bool]]] = {
    "pending and acknowledged are silent; firing, expiry and resolve are told": (
        {"for_us": 10 * S},
        [(0, 95), (10, 95), (20, Ack(until_s=30)), (30, 95), (40, 50)],
        [False, True, False, True, True],
    ),
    "a pending alert that clears was never told": (
        {"for_us": 60 * S},
        [(0, 95), (10, 50), (20, 95), (30, Resolve())],
        [False, False, False, False],
    ),
    "severity changes are told": (
        {"warning_threshold": 80.0},
        [(0, 85), (10, 95), (20, 85)],
        [True, True, True],
    ),
    "no data and data back are told": (
        {},
        [(0, 50), (10, NODATA), (20, 50)],
        [True, True],
    ),
}


@pytest.mark.parametrize(
    ("overrides", "steps", "expected"), NOTIFY_CASES.values(), ids=NOTIFY_CASES.keys()
)
def test_which_transitions_notify(
    overrides: dict[str, Any], steps: list[tuple[int, Input]], expected: list[bool]
) -> None:
    _, transitions = run(rule(**overrides), steps)

    assert [t.notify for t in transitions] == expected


def test_an_acknowledgement_keeps_who_why_and_until() -> None:
    state, transitions = run(rule(), [(0, 95), (10, Ack(until_s=99, comment="on it"))])

    assert state.ack is not None
    assert (state.ack.by, state.ack.comment, state.ack.until_us) == ("alice", "on it", 99 * S)
    assert (transitions[-1].by, transitions[-1].comment) == ("alice", "on it")


def test_a_manual_resolve_keeps_the_comment_and_clears_the_acknowledgement() -> None:
    state, transitions = run(rule(), [(0, 95), (5, Ack()), (10, Resolve("rebooted"))])

    assert state.state is RESOLVED and state.ack is None
    assert (transitions[-1].by, transitions[-1].comment) == ("bob", "rebooted")


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([(0, 50), (10, Ack())], "only a firing alert can be acknowledged; this one is ok"),
        ([(0, 95), (10, Resolve()), (20, Ack())], "this one is resolved"),
        ([(0, 50), (10, Resolve())], "nothing to resolve: the alert is ok"),
        ([(0, 95), (10, Resolve()), (20, Resolve())], "nothing to resolve: the alert is resolved"),
    ],
)
def test_moves_the_machine_refuses(steps: list[tuple[int, Input]], message: str) -> None:
    with pytest.raises(InvalidTransition, match=message):
        run(rule(), steps)


def test_an_acknowledgement_must_expire_in_the_future() -> None:
    with pytest.raises(BadUserInput, match="must expire in the future"):
        run(rule(), [(0, 95), (10, Ack(until_s=10))])


def test_the_machine_is_pure_the_input_state_is_untouched() -> None:
    before = InstanceState(key=KEY)

    after, _ = evaluate(before, Observation(95), rule(), 0)

    assert before == InstanceState(key=KEY)
    assert after.state is FIRING


def test_a_gap_changes_nothing() -> None:
    state, _ = run(rule(for_us=10 * S), [(0, 95)])

    again, transitions = evaluate(state, Observation(None), rule(for_us=10 * S), 500 * S)

    assert transitions == [] and again == state


def test_the_instance_remembers_the_last_value_and_an_acknowledgement_records_it() -> None:
    state, transitions = run(rule(), [(0, 95), (10, 97.5), (20, GAP), (30, Ack())])

    assert state.value == 97.5  # a gap keeps the last value
    assert transitions[-1].value == 97.5


def test_while_pending_the_severity_follows_the_value() -> None:
    r = rule(warning_threshold=80.0, for_us=60 * S)
    severities = []
    state = InstanceState(key=KEY)
    for at, value in [(0, 85), (10, 95), (20, 85)]:
        state, _ = evaluate(state, Observation(value), r, at * S)
        severities.append((state.state, state.severity))

    assert severities == [(PENDING, "warning"), (PENDING, "critical"), (PENDING, "warning")]
