"""Flapping: the weighted change rate, entering above high, leaving below low, held news."""

from __future__ import annotations

import pytest

from domain.alerting import AlertState, FlappingSettings, Reason, change_rate
from domain.alerting.flapping import level, track
from tests.unit.alerting.support import moves, rule, run

OK, FIRING = AlertState.OK, AlertState.FIRING
RESOLVED = AlertState.RESOLVED
R = Reason


@pytest.mark.parametrize(
    ("history", "size", "expected"),
    [
        ([], 10, 0.0),
        ([OK], 10, 0.0),
        ([OK] * 10, 10, 0.0),
        ([OK, FIRING] * 5, 10, 1.0),  # a change at every evaluation
        ([OK] * 9 + [FIRING], 10, 1.25 / 9),  # only the newest pair: the heaviest weight
        ([OK] + [FIRING] * 9, 10, 0.75 / 9),  # only the oldest pair: the lightest
        ([OK, FIRING], 10, 1.25 / 9),  # a short history: missing pairs count as unchanged
        ([FIRING] + [OK] * 9 + [FIRING], 10, 1.25 / 9),  # only the last `size` count
        ([OK, FIRING, OK], 3, 1.0),
    ],
)
def test_change_rate(history: list[AlertState], size: int, expected: float) -> None:
    assert change_rate(history, size) == pytest.approx(expected)


def test_recent_changes_weigh_more() -> None:
    old = [OK, FIRING, OK, FIRING] + [OK] * 6
    new = [OK] * 6 + [FIRING, OK, FIRING, OK]

    assert change_rate(new, 10) > change_rate(old, 10)


def test_levels_compare_what_people_are_told() -> None:
    assert [level(s) for s in AlertState] == [OK, OK, FIRING, FIRING, OK, "nodata", "error"]


def test_track_enters_above_high_and_leaves_below_low() -> None:
    settings = FlappingSettings(history=5, low=0.3, high=0.6)
    history: tuple[AlertState, ...] = ()
    flapping = False
    seen = []
    for state in [OK, FIRING, OK, FIRING, OK, OK, OK, OK]:
        history, flapping = track(history, flapping, state, settings)
        seen.append(flapping)

    # weights 1.25, 1.083, .917, .75 (newest first), over 4 pairs; rates:
    # 0, .3125, .583, .8125 (in: > .6), 1.0, .6875, .417 (stays: not < .3), .1875 (out)
    assert seen == [False, False, False, True, True, True, True, False]
    assert len(history) == 5


FLAPPY = {"flapping": FlappingSettings(history=10, low=0.3, high=0.5)}


def test_flapping_holds_notifications_and_sends_the_held_news_when_it_stops() -> None:
    # change rate after each evaluation (history 10, weights 1.25 newest .. 0.75 oldest):
    # t1 .139, t2 .271, t3 .396, t4 .514 > .5: flapping; then it decays: t10 .271 < .3
    steps = [(0, 50), (1, 95), (2, 50), (3, 95), (4, 50)] + [(t, 50) for t in range(5, 12)]
    state, transitions = run(rule(**FLAPPY), steps)

    assert [(*m, t.notify) for m, t in zip(moves(transitions), transitions, strict=True)] == [
        (1, OK, FIRING, R.CROSSED, True),
        (2, FIRING, RESOLVED, R.CLEARED, True),
        (3, RESOLVED, FIRING, R.CROSSED, True),
        (4, FIRING, RESOLVED, R.CLEARED, False),  # the change that starts flapping is held
        (4, RESOLVED, RESOLVED, R.FLAPPING_STARTED, False),
        (10, RESOLVED, RESOLVED, R.FLAPPING_STOPPED, True),  # the held "resolved" is sent
    ]
    assert not state.flapping
    assert state.notified_state is OK


def test_when_flapping_stops_where_people_were_last_told_nothing_is_sent() -> None:
    steps = [(0, 50), (1, 95), (2, 50), (3, 95), (4, 50), (5, 95)] + [(t, 95) for t in range(6, 14)]
    state, transitions = run(rule(**FLAPPY), steps)

    held = [(t.at_us // 1_000_000, t.to_state, t.reason, t.notify) for t in transitions[3:]]
    assert held == [
        (4, RESOLVED, R.CLEARED, False),
        (4, RESOLVED, R.FLAPPING_STARTED, False),
        (5, FIRING, R.CROSSED, False),
        (11, FIRING, R.FLAPPING_STOPPED, False),  # firing was the last news sent, at t3
    ]
    assert state.state is FIRING and not state.flapping


def test_while_flapping_the_state_still_moves_and_is_recorded() -> None:
    steps = [(t, 95 if t % 2 else 50) for t in range(20)]
    state, transitions = run(rule(**FLAPPY), steps)

    changes = [t for t in transitions if t.from_state is not t.to_state]
    assert len(changes) == 19  # every crossing recorded
    assert state.flapping
    assert [t.notify for t in changes[3:]] == [False] * 16


def test_without_flapping_settings_nothing_is_tracked() -> None:
    state, transitions = run(rule(), [(t, 95 if t % 2 else 50) for t in range(20)])

    assert state.history == () and not state.flapping
    assert all(t.notify for t in transitions)
