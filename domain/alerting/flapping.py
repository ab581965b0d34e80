"""Flapping detection (Kapacitor, after Nagios): a weighted rate of state changes."""

from __future__ import annotations

from collections.abc import Sequence

from domain.alerting.model import AlertState, FlappingSettings

__all__ = ["change_rate", "level", "track"]

OLDEST_WEIGHT = 0.75
NEWEST_WEIGHT = 1.25

_LEVEL = {
    AlertState.RESOLVED: AlertState.OK,
    AlertState.PENDING: AlertState.OK,
    AlertState.ACKNOWLEDGED: AlertState.FIRING,
}


def level(state: AlertState) -> AlertState:
    """What a state says to the people notified: OK (ok, resolved, pending), FIRING
    (firing, acknowledged), NODATA or ERROR. Flapping and notifications compare levels."""
    return _LEVEL.get(state, state)


def change_rate(history: Sequence[AlertState], size: int) -> float:
    """Weighted share of changes between consecutive levels in the last `size`, 0 to 1.

    The `size - 1` pairs weigh from 0.75 (oldest) to 1.25 (newest), linearly, so their
    mean weight is 1: a level changing at every evaluation scores 1.0. A history shorter
    than `size` counts its missing pairs as unchanged. (Kapacitor states these weights,
    but its ring-buffer walk gives the newest pair the lowest weight and compares the
    newest with the oldest entry; this is the intended version.)
    """
    pairs = size - 1
    n = min(len(history), size)
    start = len(history) - n
    total = 0.0
    step = (NEWEST_WEIGHT - OLDEST_WEIGHT) / (pairs - 1)
    for age in range(n - 1):  # age 0: the newest pair
        newer = start + n - 1 - age
        if history[newer] != history[newer - 1]:
            total += NEWEST_WEIGHT - step * age
    return total / pairs


def track(
    history: tuple[AlertState, ...], flapping: bool, state: AlertState, settings: FlappingSettings
) -> tuple[tuple[AlertState, ...], bool]:
    """Add one evaluated state; enter flapping above `high`, leave it below `low`."""
    history = (*history[-(settings.history - 1) :], level(state))
    rate = change_rate(history, settings.history)
    if flapping and rate < settings.low:
        flapping = False
    elif not flapping and rate > settings.high:
        flapping = True
    return history, flapping
