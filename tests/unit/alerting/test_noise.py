"""Noise figures from transitions: episodes, quick resolves, flaps, acknowledgements."""

from __future__ import annotations

import pytest

from domain.alerting.model import AlertState, Reason, Transition
from domain.alerting.noise import episodes, noise_of

S = 1_000_000
OK, FIRING, ACK, RESOLVED = (
    AlertState.OK,
    AlertState.FIRING,
    AlertState.ACKNOWLEDGED,
    AlertState.RESOLVED,
)


def t(at_s: int, frm: AlertState, to: AlertState, reason: Reason = Reason.CROSSED) -> Transition:
    return Transition(("web-1",), frm, to, at_s * S, 1.0, 90.0, reason)


HISTORY = [
    t(0, OK, FIRING),
    t(60, FIRING, RESOLVED, Reason.CLEARED),  # quick, unacknowledged
    t(120, RESOLVED, FIRING),  # a flap: 60 s after resolving
    t(130, FIRING, ACK, Reason.ACKNOWLEDGED),
    t(1320, ACK, RESOLVED, Reason.CLEARED),
    t(5000, RESOLVED, FIRING),
    t(5600, FIRING, RESOLVED, Reason.MANUAL_RESOLVE),  # by hand: acted on
    t(9000, RESOLVED, FIRING),  # still firing
]


def test_episodes_from_fire_to_resolve() -> None:
    found = [
        (e.fired_us // S, e.resolved_us, e.acknowledged, e.by_hand, e.refired)
        for e in episodes(HISTORY)
    ]
    assert found == [
        (0, 60 * S, False, False, False),
        (120, 1320 * S, True, False, True),
        (5000, 5600 * S, False, True, False),
        (9000, None, False, False, False),
    ]


def test_noise_figures() -> None:
    stats = noise_of(HISTORY, days=2)
    assert stats.firings == 4 and stats.firings_per_day == 2.0
    assert stats.quick_share == 0.25
    assert stats.flapping_share == 0.25
    assert stats.never_acknowledged_share == 0.75
    assert stats.median_resolve_seconds == pytest.approx(600.0)
    assert stats.noise == 1.0  # the first and the last: nobody acted on them, over 2 days
