"""The alert state machine, one table per semantic: the exact (time, from, to, reason)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from domain.alerting import (
    AlertState,
    Condition,
    NoDataPolicy,
    Reason,
)
from tests.unit.alerting.support import GAP, NODATA, Ack, Input, Resolve, S, moves, rule, run

OK, PENDING, FIRING = AlertState.OK, AlertState.PENDING, AlertState.FIRING
ACKED, RESOLVED = AlertState.ACKNOWLEDGED, AlertState.RESOLVED
NODATA_STATE, ERROR = AlertState.NODATA, AlertState.ERROR
R = Reason
NAN = math.nan

Case = tuple[dict[str, Any], list[tuple[int, Input]], list[tuple[int, str, str, str]]]

CASES: dict[str, Case] = {
    # -- for (pending period) ------------------------------------------------------------
    "pending, then firing after `for`, then cleared": (
        {"for_us": 30 * S},
        [(0, 50), (10, 95), (20, 95), (39, 95), (40, 95), (50, 50)],
        [
            (10, OK, PENDING, R.CROSSED),
            (40, PENDING, FIRING, R.PENDING_ELAPSED),
            (50, FIRING, RESOLVED, R.CLEARED),
        ],
    ),
    "pending interrupted restarts the period": (
        {"for_us": 30 * S},
        [(0, 95), (10, 50), (20, 95), (40, 95), (50, 95)],
        [
            (0, OK, PENDING, R.CROSSED),
            (10, PENDING, OK, R.CLEARED),
            (20, OK, PENDING, R.CROSSED),
            (50, PENDING, FIRING, R.PENDING_ELAPSED),
        ],
    ),
    "for = 0 fires at once; resolved stays until the next crossing": (
        {},
        [(0, 95), (10, 50), (20, 60), (30, 95)],
        [
            (0, OK, FIRING, R.CROSSED),
            (10, FIRING, RESOLVED, R.CLEARED),
            (30, RESOLVED, FIRING, R.CROSSED),
        ],
    ),
    "a gap does not count towards `for`: it fires on the next value": (
        {"for_us": 20 * S},
        [(0, 95), (30, GAP), (31, 95)],
        [(0, OK, PENDING, R.CROSSED), (31, PENDING, FIRING, R.PENDING_ELAPSED)],
    ),
    "== and != conditions": (
        {"condition": Condition.EQ, "threshold": 0.0},
        [(0, 1), (10, 0), (20, 2)],
        [(10, OK, FIRING, R.CROSSED), (20, FIRING, RESOLVED, R.CLEARED)],
    ),
    # -- keep_firing_for -----------------------------------------------------------------
    "keep firing: a new holding value restarts the wait": (
        {"keep_firing_for_us": 30 * S},
        [(0, 95), (10, 50), (20, 95), (30, 50), (59, 50), (60, 50)],
        [(0, OK, FIRING, R.CROSSED), (60, FIRING, RESOLVED, R.KEEP_FIRING_ELAPSED)],
    ),
    "keep firing elapses on a tick with no new point": (
        {"keep_firing_for_us": 15 * S},
        [(0, 95), (5, 50), (15, 50), (20, 50)],
        [(0, OK, FIRING, R.CROSSED), (20, FIRING, RESOLVED, R.KEEP_FIRING_ELAPSED)],
    ),
    # -- recovery threshold (hysteresis) -------------------------------------------------
    "hysteresis for >: recover only once the value passes 70": (
        {"recovery_threshold": 70.0},
        [(0, 95), (10, 80), (20, 70.5), (30, 70), (40, 85), (50, 91)],
        [
            (0, OK, FIRING, R.CROSSED),
            (30, FIRING, RESOLVED, R.RECOVERED),
            (50, RESOLVED, FIRING, R.CROSSED),
        ],
    ),
    "hysteresis for <: recover only once the value passes 20": (
        {"condition": Condition.LT, "threshold": 10.0, "recovery_threshold": 20.0},
        [(0, 5), (10, 15), (20, 19.9), (30, 20), (40, 12), (50, 9)],
        [
            (0, OK, FIRING, R.CROSSED),
            (30, FIRING, RESOLVED, R.RECOVERED),
            (50, RESOLVED, FIRING, R.CROSSED),
        ],
    ),
    "hysteresis for >=: the recovery level itself still counts as active": (
        {"condition": Condition.GE, "recovery_threshold": 70.0},
        [(0, 90), (10, 70), (20, 69.9)],
        [(0, OK, FIRING, R.CROSSED), (20, FIRING, RESOLVED, R.RECOVERED)],
    ),
    "hysteresis with keep firing: the band keeps it active": (
        {"recovery_threshold": 70.0, "keep_firing_for_us": 20 * S},
        [(0, 95), (10, 60), (20, 80), (30, 60), (49, 60), (50, 60)],
        [(0, OK, FIRING, R.CROSSED), (50, FIRING, RESOLVED, R.KEEP_FIRING_ELAPSED)],
    ),
    # -- severity ------------------------------------------------------------------------
    "warning -> critical -> warning while firing, then cleared": (
        {"warning_threshold": 80.0},
        [(0, 85), (10, 95), (20, 99), (30, 85), (40, 50)],
        [
            (0, OK, FIRING, R.CROSSED),
            (10, FIRING, FIRING, R.SEVERITY_RAISED),
            (30, FIRING, FIRING, R.SEVERITY_LOWERED),
            (40, FIRING, RESOLVED, R.CLEARED),
        ],
    ),
    # -- acknowledgement -----------------------------------------------------------------
    "acknowledged without expiry, then the condition clears": (
        {},
        [(0, 95), (10, Ack()), (20, 95), (1000, 95), (1010, 50)],
        [
            (0, OK, FIRING, R.CROSSED),
            (10, FIRING, ACKED, R.ACKNOWLEDGED),
            (1010, ACKED, RESOLVED, R.CLEARED),
        ],
    ),
    "acknowledgement expires while the condition holds": (
        {},
        [(0, 95), (10, Ack(until_s=40)), (39, 95), (40, 95), (50, 95)],
        [
            (0, OK, FIRING, R.CROSSED),
            (10, FIRING, ACKED, R.ACKNOWLEDGED),
            (40, ACKED, FIRING, R.ACK_EXPIRED),
        ],
    ),
    "acknowledgement expires during a gap": (
        {},
        [(0, 95), (10, Ack(until_s=30)), (30, GAP)],
        [
            (0, OK, FIRING, R.CROSSED),
            (10, FIRING, ACKED, R.ACKNOWLEDGED),
            (30, ACKED, FIRING, R.ACK_EXPIRED),
        ],
    ),
    "an acknowledgement renewed replaces the expiry": (
        {},
        [(0, 95), (10, Ack(until_s=30)), (20, Ack(until_s=60)), (30, 95), (60, 95)],
        [
            (0, OK, FIRING, R.CROSSED),
            (10, FIRING, ACKED, R.ACKNOWLEDGED),
            (20, ACKED, ACKED, R.ACKNOWLEDGED),
            (60, ACKED, FIRING, R.ACK_EXPIRED),
        ],
    ),
    "a raised severity ends the acknowledgement, a lowered one keeps it": (
        {"warning_threshold": 80.0},
        [(0, 85), (10, Ack()), (20, 95), (30, Ack()), (40, 85)],
        [
            (0, OK, FIRING, R.CROSSED),
            (10, FIRING, ACKED, R.ACKNOWLEDGED),
            (20, ACKED, FIRING, R.SEVERITY_RAISED),
            (30, FIRING, ACKED, R.ACKNOWLEDGED),
            (40, ACKED, ACKED, R.SEVERITY_LOWERED),
        ],
    ),
    # -- manual resolve ------------------------------------------------------------------
    "resolved by hand, then fires again through pending": (
        {"for_us": 20 * S},
        [(0, 95), (20, 95), (30, Resolve()), (40, 95), (59, 95), (60, 95)],
        [
            (0, OK, PENDING, R.CROSSED),
            (20, PENDING, FIRING, R.PENDING_ELAPSED),
            (30, FIRING, RESOLVED, R.MANUAL_RESOLVE),
            (40, RESOLVED, PENDING, R.CROSSED),
            (60, PENDING, FIRING, R.PENDING_ELAPSED),
        ],
    ),
    "an acknowledged alert resolved by hand": (
        {},
        [(0, 95), (5, Ack()), (10, Resolve()), (20, 50)],
        [
            (0, OK, FIRING, R.CROSSED),
            (5, FIRING, ACKED, R.ACKNOWLEDGED),
            (10, ACKED, RESOLVED, R.MANUAL_RESOLVE),
        ],
    ),
    # -- error ---------------------------------------------------------------------------
    "firing, an evaluation fails, then recovers below the threshold": (
        {},
        [(0, 95), (10, NAN), (20, NAN), (30, 50)],
        [
            (0, OK, FIRING, R.CROSSED),
            (10, FIRING, ERROR, R.ERROR),
            (30, ERROR, OK, R.ERROR_CLEARED),
        ],
    ),
    "an infinite aggregate is an error; a holding value fires from it": (
        {},
        [(0, math.inf), (10, 95)],
        [(0, OK, ERROR, R.ERROR), (10, ERROR, FIRING, R.CROSSED)],
    ),
    # -- no data, each policy ------------------------------------------------------------
    "no data, policy OK: firing resolves, pending and ok go quiet": (
        {"no_data_policy": NoDataPolicy.OK, "keep_firing_for_us": 60 * S},
        [(0, 95), (10, NODATA), (20, NODATA), (30, 95)],
        [
            (0, OK, FIRING, R.CROSSED),
            (10, FIRING, RESOLVED, R.NO_DATA),
            (30, RESOLVED, FIRING, R.CROSSED),
        ],
    ),
    "no data, policy OK, from pending": (
        {"no_data_policy": NoDataPolicy.OK, "for_us": 60 * S},
        [(0, 95), (10, NODATA), (20, NODATA)],
        [(0, OK, PENDING, R.CROSSED), (10, PENDING, OK, R.NO_DATA)],
    ),
    "no data, policy NODATA: its own state, left on the next value": (
        {"no_data_policy": NoDataPolicy.NODATA},
        [(0, 95), (10, NODATA), (20, NODATA), (30, 50), (40, NODATA), (50, 95)],
        [
            (0, OK, FIRING, R.CROSSED),
            (10, FIRING, NODATA_STATE, R.NO_DATA),
            (30, NODATA_STATE, OK, R.DATA_BACK),
            (40, OK, NODATA_STATE, R.NO_DATA),
            (50, NODATA_STATE, FIRING, R.CROSSED),
        ],
    ),
    "no data, policy ALERTING, for = 0": (
        {"no_data_policy": NoDataPolicy.ALERTING},
        [(0, 50), (10, NODATA), (20, NODATA), (30, 50)],
        [(10, OK, FIRING, R.NO_DATA), (30, FIRING, RESOLVED, R.CLEARED)],
    ),
    "no data, policy ALERTING goes through `for` like a holding value": (
        {"no_data_policy": NoDataPolicy.ALERTING, "for_us": 30 * S},
        [(0, NODATA), (20, NODATA), (30, NODATA)],
        [(0, OK, PENDING, R.NO_DATA), (30, PENDING, FIRING, R.PENDING_ELAPSED)],
    ),
    "no data, policy KEEP_LAST changes nothing": (
        {"no_data_policy": NoDataPolicy.KEEP_LAST, "keep_firing_for_us": 5 * S},
        [(0, 95), (10, NODATA), (100, NODATA), (110, 50), (115, 50)],
        [(0, OK, FIRING, R.CROSSED), (115, FIRING, RESOLVED, R.KEEP_FIRING_ELAPSED)],
    ),
}


@pytest.mark.parametrize(("overrides", "steps", "expected"), CASES.values(), ids=CASES.keys())
def test_transitions(
    overrides: dict[str, Any],
    steps: list[tuple[int, Input]],
    expected: list[tuple[int, str, str, str]],
) -> None:
    _, transitions = run(rule(**overrides), steps)

    assert moves(transitions) == expected
