"""The rule model: conditions, validation (every problem, precisely), the JSON-ready form."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from domain.alerting import (
    AlertRule,
    AlertSeverity,
    Condition,
    FlappingSettings,
    NoDataPolicy,
    RuleAggregation,
    Transition,
    instance_id,
)
from domain.alerting.model import AlertState, Reason
from domain.errors import BadUserInput
from domain.matchers import MatchOp, TagMatcher
from tests.unit.alerting.support import S, rule


@pytest.mark.parametrize(
    ("condition", "expected"),  # value vs threshold 10 for 9, 10, 11
    [
        (Condition.GT, [False, False, True]),
        (Condition.GE, [False, True, True]),
        (Condition.LT, [True, False, False]),
        (Condition.LE, [True, True, False]),
        (Condition.EQ, [False, True, False]),
        (Condition.NE, [True, False, True]),
    ],
)
def test_condition_holds(condition: Condition, expected: list[bool]) -> None:
    assert [condition.holds(v, 10) for v in (9, 10, 11)] == expected


INVALID: dict[str, tuple[dict[str, Any], str]] = {
    "empty name": ({"name": " "}, "name must be 1 to 200 characters"),
    "bad metric name": ({"metric": "cpu load"}, "metric 'cpu load' is not a valid metric name"),
    "zero window": ({"window_us": 0}, "window must be positive"),
    "negative window": ({"window_us": -5 * S}, "window must be positive"),
    "fractional window": ({"window_us": 1.5}, "window_us must be a whole number of microseconds"),
    "negative for": ({"for_us": -1}, "for must not be negative"),
    "negative keep firing": ({"keep_firing_for_us": -1}, "keep_firing_for must not be negative"),
    "zero no-data period": ({"no_data_after_us": 0}, "no_data_after must be positive"),
    "NaN threshold": ({"threshold": math.nan}, "threshold must be a finite number"),
    "infinite warning": ({"warning_threshold": math.inf}, "warning threshold must be a finite"),
    "recovery above threshold for >": (
        {"recovery_threshold": 95.0},
        "for '>' the recovery threshold must be below the threshold (90)",
    ),
    "recovery equal to threshold for >": (
        {"recovery_threshold": 90.0},
        "for '>' the recovery threshold must be below the threshold (90)",
    ),
    "recovery below threshold for <": (
        {"condition": Condition.LT, "threshold": 10.0, "recovery_threshold": 5.0},
        "for '<' the recovery threshold must be above the threshold (10)",
    ),
    "recovery between warning and threshold": (
        {"warning_threshold": 80.0, "recovery_threshold": 85.0},
        "for '>' the recovery threshold must be below the warning threshold (80)",
    ),
    "recovery with ==": (
        {"condition": Condition.EQ, "recovery_threshold": 1.0},
        "a recovery threshold needs an ordering condition, not '=='",
    ),
    "warning on the more severe side for >": (
        {"warning_threshold": 95.0},
        "for '>' the warning threshold must be below the threshold (90)",
    ),
    "warning on the more severe side for <=": (
        {"condition": Condition.LE, "threshold": 10.0, "warning_threshold": 5.0},
        "for '<=' the warning threshold must be above the threshold (10)",
    ),
    "warning with !=": (
        {"condition": Condition.NE, "warning_threshold": 1.0},
        "a warning level needs an ordering condition, not '!='",
    ),
    "warning with a non-critical main level": (
        {"warning_threshold": 80.0, "severity": AlertSeverity.WARNING},
        "a warning level needs the threshold's severity to be critical",
    ),
    "flapping low above high": (
        {"flapping": FlappingSettings(low=0.6, high=0.5)},
        "flapping bounds must satisfy 0 <= low < high <= 1",
    ),
    "flapping high above 1": (
        {"flapping": FlappingSettings(high=1.5)},
        "flapping bounds must satisfy 0 <= low < high <= 1",
    ),
    "flapping history too short": (
        {"flapping": FlappingSettings(history=2)},
        "flapping history must be 3 to 100 evaluations",
    ),
    "group-by key": ({"group_by": ("host name",)}, "group_by key 'host name' is not a valid"),
    "group-by twice": ({"group_by": ("host", "host")}, "group_by keys must be distinct"),
    "group-by a string": ({"group_by": "host"}, "group_by must be a list, not str"),
    "unknown condition": ({"condition": "=>"}, "condition must be one of >, >=, <, <=, ==, !="),
    "unknown aggregation": ({"aggregation": "median"}, "aggregation must be one of avg, min"),
    "unknown no-data policy": ({"no_data_policy": "ignore"}, "no_data_policy must be one of ok"),
    "flapping with unknown keys": ({"flapping": {"size": 3}}, "flapping takes history, low and"),
    "flapping of the wrong type": ({"flapping": 0.5}, "flapping must be history, low and high"),
    "flapping mapping out of bounds": ({"flapping": {"low": 0.9}}, "flapping bounds must"),
}


@pytest.mark.parametrize(("overrides", "message"), INVALID.values(), ids=INVALID.keys())
def test_an_invalid_rule_is_refused_with_a_precise_message(
    overrides: dict[str, Any], message: str
) -> None:
    with pytest.raises(BadUserInput) as caught:
        rule(**overrides)

    assert message in caught.value.message
    assert caught.value.code == "BAD_USER_INPUT"


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(BadUserInput) as caught:
        rule(window_us=0, for_us=-1, recovery_threshold=99.0, group_by=("a", "a"))

    assert caught.value.details["errors"] == [
        "window must be positive",
        "for must not be negative",
        "for '>' the recovery threshold must be below the threshold (90): the alert recovers "
        "only once the value passes it",
        "group_by keys must be distinct",
    ]


def test_an_invalid_regex_is_refused_before_a_rule_exists() -> None:
    with pytest.raises(BadUserInput, match="invalid regex for tag 'host'"):
        rule(matchers=(TagMatcher("host", MatchOp.REGEX, "web-("),))
    with pytest.raises(BadUserInput, match="invalid regex for tag 'host'"):
        AlertRule.from_dict(
            rule().to_dict() | {"matchers": [{"key": "host", "op": "=~", "value": "(("}]}
        )


@pytest.mark.parametrize(
    "overrides",
    [
        {"recovery_threshold": 70.0, "warning_threshold": 80.0},
        {"condition": Condition.GE, "recovery_threshold": 89.9},
        {"condition": Condition.LT, "threshold": 10.0, "recovery_threshold": 20.0},
        {"condition": Condition.LE, "threshold": 10.0, "warning_threshold": 20.0},
        {"for_us": 0, "keep_firing_for_us": 0, "flapping": FlappingSettings(3, 0.0, 1.0)},
        {"threshold": -5},
    ],
)
def test_valid_edges(overrides: dict[str, Any]) -> None:
    assert rule(**overrides).name == "cpu high"


def test_text_values_are_taken_for_enums_and_lists_for_tuples() -> None:
    r = rule(condition="<=", aggregation="p99", severity="info", no_data_policy="keep_last")
    r2 = rule(group_by=["host", "dc"], flapping={"history": 5, "low": 0.1, "high": 0.3})

    assert (r.condition, r.aggregation) == (Condition.LE, RuleAggregation.P99)
    assert (r.severity, r.no_data_policy) == (AlertSeverity.INFO, NoDataPolicy.KEEP_LAST)
    assert r2.group_by == ("host", "dc")
    assert r2.flapping == FlappingSettings(5, 0.1, 0.3)


@pytest.mark.parametrize(
    ("field", "seconds", "message"),
    [
        ("window_us", 31 * 86_400, "window (2678400 s) is longer than the retention (2592000 s)"),
        ("for_us", 31 * 86_400, "for (2678400 s) is longer than the retention"),
        ("keep_firing_for_us", 40 * 86_400, "keep_firing_for (3456000 s) is longer than"),
        ("no_data_after_us", 31 * 86_400, "no_data_after (2678400 s) is longer than"),
    ],
)
def test_periods_longer_than_the_retention_are_refused(
    field: str, seconds: int, message: str
) -> None:
    r = rule(**{field: seconds * S})

    with pytest.raises(BadUserInput, match=message.replace("(", r"\(").replace(")", r"\)")):
        r.validate(retention_seconds=30 * 86_400)
    rule().validate(retention_seconds=30 * 86_400)  # the defaults fit


def test_the_json_ready_form_round_trips() -> None:
    r = rule(
        matchers=(TagMatcher("env", MatchOp.NEQ, "dev"),),
        aggregation=RuleAggregation.RATE,
        warning_threshold=80.0,
        recovery_threshold=70.0,
        for_us=5 * S,
        keep_firing_for_us=6 * S,
        no_data_policy=NoDataPolicy.ALERTING,
        no_data_after_us=7 * S,
        flapping=FlappingSettings(10, 0.2, 0.4),
        description="why this matters",
    )

    data = json.loads(json.dumps(r.to_dict()))

    assert AlertRule.from_dict(data) == r
    assert AlertRule.from_dict(data).description == "why this matters"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"metric": "cpu", "threshold": 1}, "KeyError: 'name'"),
        ({"name": "x", "metric": "cpu", "threshold": 1, "condition": "=>"}, "ValueError"),
        ({"name": "x", "metric": "cpu", "threshold": 1, "matchers": [{"key": "a"}]}, "KeyError"),
        ({"name": "x", "metric": "cpu", "threshold": 1, "flapping": {"bad": 1}}, "TypeError"),
        ({"name": "x", "metric": "cpu", "threshold": "high"}, "threshold must be a finite"),
    ],
)
def test_a_dict_that_does_not_parse_is_bad_user_input(data: dict[str, Any], message: str) -> None:
    with pytest.raises(BadUserInput, match=message):
        AlertRule.from_dict(data)


def test_a_transition_is_json_ready_and_round_trips() -> None:
    t = Transition(("web-1",), AlertState.OK, AlertState.FIRING, 5, 95.0, 90.0, Reason.CROSSED)
    failed = Transition(("a",), AlertState.OK, AlertState.ERROR, 5, math.nan, None, Reason.ERROR)

    assert Transition.from_dict(json.loads(json.dumps(t.to_dict()))) == t
    assert failed.to_dict()["value"] is None  # NaN is not JSON


def test_instance_ids_are_stable_and_distinct() -> None:
    assert instance_id("r1", ("a", "b")) == instance_id("r1", ("a", "b"))
    ids = {instance_id("r1", ("a", "b")), instance_id("r1", ("ab",)), instance_id("r2", ("a", "b"))}
    assert len(ids) == 3
    assert all(len(i) == 24 and int(i, 16) >= 0 for i in ids)
