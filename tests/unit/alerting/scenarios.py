"""Random rules and random streams of points, ticks, acknowledgements and resolves, per
semantic of the state machine: what the fast-path equivalence tests replay."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from typing import Any

from domain.alerting import (
    AlertRule,
    Condition,
    FlappingSettings,
    NoDataPolicy,
    RuleAggregation,
)
from domain.alerting.evaluator import cohort_key

__all__ = ["SEMANTICS", "Op", "random_ops", "random_rule", "sibling_rules"]

S = 1_000_000
SEMANTICS = (
    "pending",
    "keep_firing",
    "hysteresis",
    "no_data",
    "flapping",
    "acknowledgement",
    "equality",
)
HOSTS = ("a", "b", "c")
_ORDERING = (Condition.GT, Condition.GE, Condition.LT, Condition.LE)
_AGGREGATIONS = tuple(RuleAggregation)


@dataclass(frozen=True)
class Op:
    """One input: a point (`value` set), a tick, an acknowledgement or a resolve."""

    kind: str  # point | tick | ack | resolve
    at_us: int
    host: str = "a"
    value: float = 0.0
    until_us: int | None = None


def random_rule(rng: random.Random, semantic: str, **fixed: Any) -> AlertRule:
    """A valid rule exercising `semantic`; `fixed` pins fields (a cohort's shared ones)."""
    condition = rng.choice(_ORDERING)
    up = condition.direction
    fields: dict[str, Any] = {
        "name": f"{semantic} rule",
        "metric": "cpu",
        "condition": condition,
        "threshold": 90.0,
        "aggregation": rng.choice(_AGGREGATIONS),
        "window_us": rng.choice((3, 10, 30)) * S,
        "group_by": ("host",),
        "for_us": rng.choice((0, 0, 2, 5)) * S,
    }
    if semantic == "pending":
        fields["for_us"] = rng.choice((1, 3, 8)) * S
    elif semantic == "keep_firing":
        fields["keep_firing_for_us"] = rng.choice((1, 4, 10)) * S
    elif semantic == "hysteresis":
        fields["warning_threshold"] = 90.0 - 10 * up
        fields["recovery_threshold"] = 90.0 - rng.choice((15, 30)) * up
    elif semantic == "no_data":
        fields["no_data_policy"] = rng.choice(tuple(NoDataPolicy))
        fields["no_data_after_us"] = rng.choice((None, 2 * S, 6 * S, 40 * S))
    elif semantic == "flapping":
        fields["flapping"] = FlappingSettings(
            history=rng.choice((3, 4, 6)), low=rng.choice((0.0, 0.2)), high=0.5
        )
    elif semantic == "acknowledgement":
        fields["warning_threshold"] = 90.0 - 10 * up
        fields["severity"] = "critical"
    else:  # equality: == and != on whole values
        fields["condition"] = rng.choice((Condition.EQ, Condition.NE))
        fields["aggregation"] = rng.choice((RuleAggregation.LAST, RuleAggregation.MAX))
    fields.update(fixed)
    return AlertRule(**fields)


def sibling_rules(rng: random.Random, semantic: str, count: int) -> list[AlertRule]:
    """Rules that share one window (a cohort) and differ in everything else."""
    shared = {
        "aggregation": rng.choice(_AGGREGATIONS),
        "window_us": rng.choice((3, 10)) * S,
        "group_by": ("host",),
    }
    rules = []
    for n in range(count):
        r = random_rule(rng, rng.choice(SEMANTICS) if n else semantic, **shared)
        if cohort_key(r) is None:  # a no-data period shorter than the window: not shared
            r = replace(r, no_data_after_us=None)
        rules.append(r)
    return rules


def random_ops(rng: random.Random, count: int, *, late: float = 0.05) -> list[Op]:
    """Points of a few hosts whose values dwell around 90 (and the levels near it), with
    ticks, acknowledgements, resolves, silences and a few late points."""
    ops: list[Op] = []
    now = 0
    levels = [90.0, 80.0, 100.0, 75.0, 105.0, 60.0, 120.0]
    level = rng.choice(levels)
    for _ in range(count):
        now += rng.choice((0, S // 2, S, S, 2 * S, 3 * S)) if rng.random() > 0.02 else 12 * S
        roll = rng.random()
        if roll < 0.12:
            ops.append(Op("tick", now))
        elif roll < 0.16:
            until = rng.choice((None, now + rng.choice((1, 4, 20)) * S))
            ops.append(Op("ack", now, rng.choice(HOSTS), until_us=until))
        elif roll < 0.18:
            ops.append(Op("resolve", now, rng.choice(HOSTS)))
        else:
            if rng.random() < 0.1:
                level = rng.choice(levels)
            ops.append(Op("point", _when(rng, now, late), rng.choice(HOSTS), _value(rng, level)))
    return ops


def _when(rng: random.Random, now: int, late: float) -> int:
    return now - rng.choice((1, 2, 5, 40)) * S if rng.random() < late else now


def _value(rng: random.Random, level: float) -> float:
    roll = rng.random()
    if roll < 0.01:
        return rng.choice((math.nan, math.inf, -math.inf))
    if roll < 0.15:  # exactly on a threshold, or the next float either side
        return math.nextafter(level, rng.choice((-math.inf, math.inf))) if roll < 0.08 else level
    if roll < 0.3:
        return float(round(level + rng.uniform(-3, 3)))
    return level + rng.uniform(-8, 8)
