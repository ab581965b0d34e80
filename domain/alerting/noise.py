"""How noisy an alert is, from its recorded transitions: firings per day, how many resolved
by themselves within minutes, flapped, were never acknowledged, and how long they lasted.

An episode is one instance's stay in FIRING or ACKNOWLEDGED: from the transition that
entered FIRING to the one that left for RESOLVED (or to now, if it still fires).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from domain.alerting.model import AlertState, InstanceKey, Reason, Transition

__all__ = ["QUICK_US", "REFIRE_US", "Episode", "NoiseStats", "episodes", "noise_of"]

QUICK_US = 5 * 60_000_000  # resolved by itself this soon: probably nobody needed to know
REFIRE_US = 10 * 60_000_000  # fired again this soon after resolving: a flap
_ALERTING = (AlertState.FIRING, AlertState.ACKNOWLEDGED)


@dataclass(frozen=True, slots=True)
class Episode:
    key: InstanceKey
    fired_us: int
    resolved_us: int | None  # None: still firing
    acknowledged: bool
    by_hand: bool  # resolved by a person
    refired: bool  # it fired within REFIRE_US of this instance's previous resolution


@dataclass(frozen=True, slots=True)
class NoiseStats:
    firings: int
    firings_per_day: float
    quick_share: float  # resolved by themselves within QUICK_US, never acknowledged
    flapping_share: float  # fired again within REFIRE_US of resolving
    flapping_started: int  # times flapping detection held notifications
    never_acknowledged_share: float
    median_resolve_seconds: float | None
    noise: float  # firings per day nobody acted on (no acknowledgement, no hand resolve)


def episodes(transitions: Sequence[Transition]) -> list[Episode]:
    """The firing episodes in `transitions` (any order), oldest first."""
    found: list[Episode] = []
    open_: dict[InstanceKey, tuple[int, bool]] = {}
    last_resolved: dict[InstanceKey, int] = {}
    for t in sorted(transitions, key=lambda t: t.at_us):
        key = t.instance_key
        if t.to_state is AlertState.FIRING and t.from_state not in _ALERTING:
            open_[key] = (t.at_us, False)
        elif t.to_state is AlertState.ACKNOWLEDGED and key in open_:
            open_[key] = (open_[key][0], True)
        elif t.to_state is AlertState.RESOLVED and key in open_:
            fired, acked = open_.pop(key)
            previous = last_resolved.get(key)
            found.append(
                Episode(
                    key,
                    fired,
                    t.at_us,
                    acked,
                    t.reason is Reason.MANUAL_RESOLVE,
                    previous is not None and fired - previous <= REFIRE_US,
                )
            )
            last_resolved[key] = t.at_us
    for key, (fired, acked) in open_.items():
        previous = last_resolved.get(key)
        refired = previous is not None and fired - previous <= REFIRE_US
        found.append(Episode(key, fired, None, acked, False, refired))
    found.sort(key=lambda e: e.fired_us)
    return found


def noise_of(transitions: Sequence[Transition], days: float) -> NoiseStats:
    runs = episodes(transitions)
    n = len(runs)
    if n == 0:
        return NoiseStats(0, 0.0, 0.0, 0.0, _flapping(transitions), 0.0, None, 0.0)
    quick = sum(
        1
        for e in runs
        if e.resolved_us is not None
        and not e.acknowledged
        and not e.by_hand
        and e.resolved_us - e.fired_us <= QUICK_US
    )
    durations = [e.resolved_us - e.fired_us for e in runs if e.resolved_us is not None]
    unacted = sum(1 for e in runs if not e.acknowledged and not e.by_hand)
    return NoiseStats(
        firings=n,
        firings_per_day=n / days,
        quick_share=quick / n,
        flapping_share=sum(1 for e in runs if e.refired) / n,
        flapping_started=_flapping(transitions),
        never_acknowledged_share=sum(1 for e in runs if not e.acknowledged) / n,
        median_resolve_seconds=statistics.median(durations) / 1e6 if durations else None,
        noise=unacted / days,
    )


def _flapping(transitions: Sequence[Transition]) -> int:
    return sum(1 for t in transitions if t.reason is Reason.FLAPPING_STARTED)
