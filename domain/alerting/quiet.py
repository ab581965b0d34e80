"""Where an evaluation changes nothing: the ground of the evaluator's fast path.

For an instance in a steady state, most points change only its last value and last point
time: an OK instance whose condition stays false, a FIRING one whose level stays the
same. `quiet_range` says, for one state and rule, which aggregates those are (an open
interval `lo < value < hi`, NaN and infinities never inside) and until when (`until_us`,
the first time a pending period or an acknowledgement could end). Inside it,
`machine.evaluate(state, Observation(value, point_us=p), rule, now)` is exactly
`(state.evolve(value=value, last_point_us=max(state.last_point_us, p)), [])`; the unit
tests check this against the machine over random states, rules and values.

It is a subset of the quiet values, never more: a state this module cannot describe as
one interval (NODATA, ERROR, keep-firing waits, a flapping history still filling up,
`==` conditions, a severity the rule no longer has) gets None, and every point takes
the full machine. The interval depends only on the state-machine fields of the state,
never on `value` or `last_point_us`, so those can be updated without recomputing it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from domain.alerting.flapping import track
from domain.alerting.model import AlertSeverity, AlertState, Condition
from domain.alerting.rule import AlertRule
from domain.alerting.state import InstanceState

__all__ = ["Quiet", "intersect", "quiet_range"]

_INF = math.inf
Interval = tuple[float, float]  # open: lo < v < hi


@dataclass(frozen=True, slots=True)
class Quiet:
    """Aggregates `lo < value < hi`, evaluated before `until_us`, change nothing but the
    instance's value and last point time."""

    lo: float
    hi: float
    until_us: float = _INF

    def admits(self, value: float | None, now_us: int) -> bool:
        return value is not None and self.lo < value < self.hi and now_us < self.until_us


def intersect(ranges: list[Quiet | None]) -> Quiet | None:
    """Where every one of `ranges` is quiet (None if one of them never is)."""
    lo, hi, until = -_INF, _INF, _INF
    for q in ranges:
        if q is None:
            return None
        lo, hi, until = max(lo, q.lo), min(hi, q.hi), min(until, q.until_us)
    return Quiet(lo, hi, until) if lo < hi else None


def quiet_range(state: InstanceState, rule: AlertRule) -> Quiet | None:
    """The values and times at which evaluating `state` changes nothing durable."""
    if not _flapping_steady(state, rule):
        return None
    s = state.state
    if s in (AlertState.OK, AlertState.RESOLVED):
        least = rule.warning_threshold if rule.warning_threshold is not None else rule.threshold
        interval = _fails(rule.condition, least)
        return None if interval is None else Quiet(*interval)
    if s is AlertState.PENDING:
        interval = _level_range(rule, state.severity)
        if interval is None or state.since_us is None:
            return None
        return Quiet(*interval, until_us=state.since_us + rule.for_us)
    if s in (AlertState.FIRING, AlertState.ACKNOWLEDGED):
        if state.keep_firing_since_us is not None:
            return None
        interval = _firing_range(rule, state.severity)
        if interval is None:
            return None
        ack = state.ack
        until = _INF
        if s is AlertState.ACKNOWLEDGED and ack is not None and ack.until_us is not None:
            until = ack.until_us
        return Quiet(*interval, until_us=until)
    return None  # NODATA and ERROR move on any finite value


def _flapping_steady(state: InstanceState, rule: AlertRule) -> bool:
    """Flapping counts every evaluation; one more of the same level must change nothing
    (a full history of that one level, and a flag that rate 0 leaves as it is)."""
    settings = rule.flapping
    if settings is None:
        return True
    return track(state.history, state.flapping, state.state, settings) == (
        state.history,
        state.flapping,
    )


def _level_range(rule: AlertRule, severity: AlertSeverity | None) -> Interval | None:
    """Where `rule.level_of(value) is severity`."""
    if severity is None:
        return None
    if severity is rule.severity:
        return _holds(rule.condition, rule.threshold)
    warning = rule.warning_threshold
    if severity is AlertSeverity.WARNING and warning is not None:
        return _meet(_holds(rule.condition, warning), _fails(rule.condition, rule.threshold))
    return None


def _firing_range(rule: AlertRule, severity: AlertSeverity | None) -> Interval | None:
    """Where a firing instance at `severity` stays as it is: its level holds, or no level
    holds but the value has not passed the recovery threshold (hysteresis)."""
    level = _level_range(rule, severity)
    if level is None or rule.recovery_threshold is None:
        return level
    least = rule.warning_threshold if rule.warning_threshold is not None else rule.threshold
    recovering = _meet(
        _holds(rule.condition, rule.recovery_threshold), _fails(rule.condition, least)
    )
    if recovering is None or recovering[1] <= level[0] or level[1] <= recovering[0]:
        return level  # apart (a warning band between): the level's own range
    return min(level[0], recovering[0]), max(level[1], recovering[1])


def _meet(a: Interval | None, b: Interval | None) -> Interval | None:
    if a is None or b is None:
        return None
    lo, hi = max(a[0], b[0]), min(a[1], b[1])
    return (lo, hi) if lo < hi else None


def _holds(condition: Condition, threshold: float) -> Interval | None:
    """The open interval of values for which `condition.holds(value, threshold)`."""
    t = _exact(threshold)
    if t is None:
        return None
    if condition is Condition.GT:
        return t, _INF
    if condition is Condition.GE:
        return math.nextafter(t, -_INF), _INF
    if condition is Condition.LT:
        return -_INF, t
    if condition is Condition.LE:
        return -_INF, math.nextafter(t, _INF)
    if condition is Condition.EQ:
        return math.nextafter(t, -_INF), math.nextafter(t, _INF)
    return None  # != holds on two intervals


def _fails(condition: Condition, threshold: float) -> Interval | None:
    """The open interval of values for which the condition does not hold."""
    t = _exact(threshold)
    if t is None:
        return None
    if condition is Condition.GT:
        return -_INF, math.nextafter(t, _INF)
    if condition is Condition.GE:
        return -_INF, t
    if condition is Condition.LT:
        return math.nextafter(t, -_INF), _INF
    if condition is Condition.LE:
        return t, _INF
    if condition is Condition.NE:
        return math.nextafter(t, -_INF), math.nextafter(t, _INF)
    return None  # == fails on two intervals


def _exact(threshold: float) -> float | None:
    """The threshold as a float, if that is exactly it (a huge int may not be)."""
    t = float(threshold)
    return t if t == threshold and math.isfinite(t) else None
