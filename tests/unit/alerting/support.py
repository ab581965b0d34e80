"""Drive the pure state machine through a table of timed inputs and read back what it did."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from domain.alerting import (
    NO_DATA,
    SECOND_US,
    AlertRule,
    InstanceState,
    Observation,
    Transition,
    acknowledge,
    evaluate,
    resolve,
)

S = SECOND_US
KEY = ("web-1",)


@dataclass(frozen=True)
class Ack:
    until_s: int | None = None
    comment: str = "looking"


@dataclass(frozen=True)
class Resolve:
    comment: str = "fixed by hand"


GAP = None  # an empty window inside the no-data period
NODATA = "nodata"  # the no-data period passed
Input = float | str | Ack | Resolve | None


def rule(**overrides: Any) -> AlertRule:
    """A `cpu > 90` rule over `last`, one instance per host; override what a case needs."""
    fields: dict[str, Any] = {
        "name": "cpu high",
        "metric": "cpu",
        "threshold": 90.0,
        "window_us": 60 * S,
        "group_by": ("host",),
    }
    return AlertRule(**(fields | overrides))


def step(
    state: InstanceState, at_s: int, what: Input, r: AlertRule
) -> tuple[InstanceState, list[Transition]]:
    now = at_s * S
    if isinstance(what, Ack):
        until = None if what.until_s is None else what.until_s * S
        return acknowledge(state, now, by="alice", comment=what.comment, until_us=until)
    if isinstance(what, Resolve):
        return resolve(state, now, by="bob", comment=what.comment)
    observation = NO_DATA if isinstance(what, str) else Observation(what)
    return evaluate(state, observation, r, now)


def run(
    r: AlertRule, steps: Sequence[tuple[int, Input]], state: InstanceState | None = None
) -> tuple[InstanceState, list[Transition]]:
    state = state or InstanceState(key=KEY)
    out: list[Transition] = []
    for at_s, what in steps:
        state, transitions = step(state, at_s, what, r)
        out += transitions
    return state, out


def moves(transitions: list[Transition]) -> list[tuple[int, str, str, str]]:
    """(seconds, from, to, reason) of each transition: what the tables assert."""
    return [(t.at_us // S, t.from_state, t.to_state, t.reason) for t in transitions]
