"""InstanceState: its fast copy stays in step with its fields; its JSON form round-trips."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from domain.alerting import (
    Acknowledgement,
    AlertSeverity,
    AlertState,
    InstanceState,
)

FULL = InstanceState(
    key=("web-1", "eu"),
    state=AlertState.ACKNOWLEDGED,
    severity=AlertSeverity.WARNING,
    since_us=5,
    value=85.5,
    last_point_us=7,
    keep_firing_since_us=6,
    ack=Acknowledgement("alice", "on it", 5, 99),
    history=(AlertState.OK, AlertState.FIRING),
    flapping=True,
    notified_state=AlertState.FIRING,
    notified_severity=AlertSeverity.CRITICAL,
)
OTHER = InstanceState(key=("x",), since_us=1, value=1.0, last_point_us=2, history=(AlertState.OK,))


@pytest.mark.parametrize("name", [f.name for f in dataclasses.fields(InstanceState)])
def test_evolve_changes_exactly_the_field_named_like_replace(name: str) -> None:
    new_value = getattr(OTHER, name)

    assert FULL.evolve(**{name: new_value}) == dataclasses.replace(FULL, **{name: new_value})
    assert FULL.evolve(**{name: new_value}) != FULL


def test_evolve_refuses_unknown_fields() -> None:
    with pytest.raises(TypeError, match="unknown InstanceState fields: \\['colour'\\]"):
        FULL.evolve(colour="red")


def test_the_json_form_round_trips_every_field() -> None:
    data = json.loads(json.dumps(FULL.to_dict()))

    assert InstanceState.from_dict(data) == FULL


def test_a_failed_evaluation_value_is_stored_as_null() -> None:
    failed = InstanceState(key=("a",), state=AlertState.ERROR, value=math.nan)

    assert failed.to_dict()["value"] is None
    json.dumps(failed.to_dict(), allow_nan=False)
