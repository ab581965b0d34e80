"""Alert templates: parameters with defaults and bounds, and the built-in `system` set."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from domain.alerting import (
    BUILTIN_TEMPLATES,
    MINUTE_US,
    AlertState,
    RuleAggregation,
    RuleEvaluator,
    builtin_template,
)
from domain.errors import BadUserInput, NotFound
from domain.matchers import MatchOp, TagMatcher

SYSTEM_METRICS = {
    "vigil.process.cpu_percent",
    "vigil.process.memory_rss_bytes",
    "vigil.api.latency_ms",
    "vigil.api.errors_total",
    "vigil.ws.connections",
}


def test_the_builtin_set_covers_vigils_own_metrics_and_builds_with_defaults() -> None:
    rules = [t.build() for t in BUILTIN_TEMPLATES]

    assert {r.metric for r in rules} == SYSTEM_METRICS
    assert len({t.name for t in BUILTIN_TEMPLATES}) == len(BUILTIN_TEMPLATES)
    assert all(r.group_by == ("instance",) for r in rules)  # one alert per Vigil instance
    json.dumps([t.to_dict() for t in BUILTIN_TEMPLATES])


def test_cpu_above_x_percent_for_y_minutes() -> None:
    r = builtin_template("vigil-cpu").build({"percent": 75, "for_minutes": 10})

    assert (r.threshold, r.condition, r.for_us) == (75.0, ">", 10 * MINUTE_US)
    assert r.name == "Vigil CPU above 75% for 10 min"
    assert r.window_us == 5 * MINUTE_US  # the default


def test_latency_watches_the_p99_series_and_errors_use_a_rate() -> None:
    latency = builtin_template("vigil-api-latency").build()
    errors = builtin_template("vigil-api-errors").build({"per_second": 0.5})
    memory = builtin_template("vigil-memory").build({"megabytes": 512})

    assert latency.matchers == (TagMatcher("stat", MatchOp.EQ, "p99"),)
    assert (errors.aggregation, errors.threshold) == (RuleAggregation.RATE, 0.5)
    assert memory.threshold == 512 * 1024 * 1024


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"percnt": 80}, "unknown parameter\\(s\\) for template 'vigil-cpu': percnt; it takes"),
        ({"percent": 0}, "parameter 'percent' must be between 1 and 10000, not 0"),
        ({"percent": 20_000}, "must be between 1 and 10000"),
        ({"percent": math.nan}, "must be between"),
        ({"percent": "90"}, "parameter 'percent' must be a number"),
        ({"percent": True}, "parameter 'percent' must be a number"),
        ({"for_minutes": -1}, "parameter 'for_minutes' must be between 0 and 1440"),
        ({"window_minutes": 0}, "parameter 'window_minutes' must be between 1 and 1440"),
    ],
)
def test_bad_parameters_are_bad_user_input(params: dict[str, Any], message: str) -> None:
    with pytest.raises(BadUserInput, match=message):
        builtin_template("vigil-cpu").build(params)


def test_a_whole_number_parameter_refuses_fractions() -> None:
    with pytest.raises(BadUserInput, match="'connections' must be a whole number"):
        builtin_template("vigil-ws-connections").build({"connections": 10.5})


def test_an_unknown_template_is_not_found() -> None:
    with pytest.raises(NotFound, match="no alert template named 'nope'"):
        builtin_template("nope")


def test_a_built_rule_fires_on_self_monitoring_points() -> None:
    evaluator = RuleEvaluator(builtin_template("vigil-cpu").build({"for_minutes": 0}))
    tags = {"instance": "vigil-1"}
    out = []
    for second in range(0, 300, 10):
        out += evaluator.observe(tags, second * 1_000_000, 95.0)

    assert [(t.instance_key, t.to_state) for t in out] == [(("vigil-1",), AlertState.FIRING)]
