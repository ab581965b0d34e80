"""The alert state machine, as pure functions: (state, input, time) -> (state, transitions).

The named rules, per state of the instance:

- OK, RESOLVED, NODATA, ERROR ("quiet"): a level that holds -> PENDING (`for` > 0) or
  FIRING (`for` = 0), reason CROSSED. NODATA and ERROR go back to OK on a value that does
  not hold (DATA_BACK, ERROR_CLEARED). RESOLVED stays visible until the next transition.
- PENDING: stops holding -> OK (CLEARED); held for `for` -> FIRING (PENDING_ELAPSED).
- FIRING, ACKNOWLEDGED: active while a level holds or, with a recovery threshold, until
  the value passes it (hysteresis). Not active -> RESOLVED (CLEARED or RECOVERED), after
  waiting `keep_firing_for` (KEEP_FIRING_ELAPSED) if set. A new severity is a move inside
  the state (FIRING -> FIRING); a higher severity ends an acknowledgement (-> FIRING).
  An acknowledgement past its expiry, the condition still active -> FIRING (ACK_EXPIRED).
- No data for the rule's no-data period, by policy: OK (alerting -> RESOLVED, else -> OK),
  NODATA (-> NODATA), ALERTING (counts as the threshold holding, through `for`), KEEP_LAST
  (nothing changes).
- A NaN or infinite aggregate -> ERROR; the next good value decides as from OK.
- A gap (empty window inside the no-data period) decides nothing; acknowledgements expire.

Notifications: a transition notifies when what people were last told changes (the level,
see flapping.level, and the severity while firing), plus every expired acknowledgement;
moves to PENDING or ACKNOWLEDGED never do. While the instance flaps nothing notifies;
when flapping stops, a FLAPPING_STOPPED transition sends the held news if it differs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from domain.alerting.flapping import level, track
from domain.alerting.model import (
    AlertSeverity,
    AlertState,
    FlappingSettings,
    InvalidTransition,
    NoDataPolicy,
    Reason,
    Transition,
)
from domain.alerting.rule import AlertRule
from domain.alerting.state import Acknowledgement, InstanceState, Observation
from domain.errors import BadUserInput

__all__ = ["acknowledge", "evaluate", "resolve"]

OK, PENDING, FIRING = AlertState.OK, AlertState.PENDING, AlertState.FIRING
ACKNOWLEDGED, RESOLVED = AlertState.ACKNOWLEDGED, AlertState.RESOLVED
NODATA, ERROR = AlertState.NODATA, AlertState.ERROR

_ALERTING = (FIRING, ACKNOWLEDGED)
_NEVER_NOTIFIED = (PENDING, ACKNOWLEDGED)


def evaluate(
    state: InstanceState, observation: Observation, rule: AlertRule, now_us: int
) -> tuple[InstanceState, list[Transition]]:
    """One evaluation of one instance: after a point (streaming) or at a tick."""
    value = observation.value
    run = _Run(state, now_us, state.value if value is None else value)
    decided = True
    if observation.no_data:
        run.value = None
        decided = _no_data(run, rule)
    elif value is None:
        decided = False
    elif not math.isfinite(value):
        if state.state is not ERROR:
            run.move(ERROR, Reason.ERROR, threshold=None)
    else:
        _decide(run, rule, rule.level_of(value), Reason.CROSSED)
    _expire_acknowledgement(run, rule)
    point_us = observation.point_us
    if point_us is not None and (state.last_point_us is None or point_us > state.last_point_us):
        run.last_point_us = point_us
    return _finish(run, rule.flapping, decided)


def acknowledge(
    state: InstanceState, now_us: int, *, by: str, comment: str = "", until_us: int | None = None
) -> tuple[InstanceState, list[Transition]]:
    """FIRING -> ACKNOWLEDGED; acknowledging again replaces the comment and expiry."""
    if state.state not in _ALERTING:
        raise InvalidTransition(
            f"only a firing alert can be acknowledged; this one is {state.state.value}"
        )
    if until_us is not None and until_us <= now_us:
        raise BadUserInput("an acknowledgement must expire in the future")
    run = _Run(state, now_us, state.value)
    ack = Acknowledgement(by, comment, now_us, until_us)
    run.move(ACKNOWLEDGED, Reason.ACKNOWLEDGED, threshold=None, by=by, comment=comment, ack=ack)
    return _finish(run, None, decided=False)


def resolve(
    state: InstanceState, now_us: int, *, by: str, comment: str = ""
) -> tuple[InstanceState, list[Transition]]:
    """Any non-OK state -> RESOLVED by hand; a condition still holding fires again as usual."""
    if state.state in (OK, RESOLVED):
        raise InvalidTransition(f"nothing to resolve: the alert is {state.state.value}")
    run = _Run(state, now_us, state.value)
    run.move(RESOLVED, Reason.MANUAL_RESOLVE, threshold=None, by=by, comment=comment)
    return _finish(run, None, decided=False)


# -- the rules -----------------------------------------------------------------------------


def _decide(run: _Run, rule: AlertRule, holds: AlertSeverity | None, crossed: Reason) -> None:
    """`holds`: the severest level whose condition holds for the value (or for no data
    under the ALERTING policy, where `run.value` is None)."""
    s = run.state
    if s.state is PENDING:
        if holds is None:
            run.move(OK, Reason.CLEARED, threshold=rule.threshold_for(s.severity))
        elif run.now - (s.since_us if s.since_us is not None else run.now) >= rule.for_us:
            run.move(
                FIRING, Reason.PENDING_ELAPSED, threshold=rule.threshold_for(holds), severity=holds
            )
        elif holds is not s.severity:
            run.state = s.evolve(severity=holds)
    elif s.state in _ALERTING:
        _while_alerting(run, rule, holds)
    elif holds is not None:
        to = FIRING if rule.for_us == 0 else PENDING
        run.move(to, crossed, threshold=rule.threshold_for(holds), severity=holds)
    elif s.state is NODATA:
        run.move(OK, Reason.DATA_BACK, threshold=None)
    elif s.state is ERROR:
        run.move(OK, Reason.ERROR_CLEARED, threshold=None)


def _while_alerting(run: _Run, rule: AlertRule, holds: AlertSeverity | None) -> None:
    s = run.state
    value = run.value
    if holds is not None or value is None or rule.still_active(value):  # not yet recovered
        if s.keep_firing_since_us is not None:
            run.state = s = s.evolve(keep_firing_since_us=None)
        if holds is not None and value is not None and holds is not s.severity:
            raised = s.severity is None or holds.rank > s.severity.rank
            reason = Reason.SEVERITY_RAISED if raised else Reason.SEVERITY_LOWERED
            to = ACKNOWLEDGED if s.state is ACKNOWLEDGED and not raised else FIRING
            run.move(to, reason, threshold=rule.threshold_for(holds), severity=holds)
        return
    since = s.keep_firing_since_us if s.keep_firing_since_us is not None else run.now
    if run.now - since < rule.keep_firing_for_us:
        if s.keep_firing_since_us is None:
            run.state = s.evolve(keep_firing_since_us=since)
        return
    if rule.keep_firing_for_us:
        reason = Reason.KEEP_FIRING_ELAPSED
    elif rule.recovery_threshold is not None:
        reason = Reason.RECOVERED
    else:
        reason = Reason.CLEARED
    run.move(RESOLVED, reason, threshold=rule.resolve_threshold)


def _no_data(run: _Run, rule: AlertRule) -> bool:
    """Apply the no-data policy; False when it decides nothing (KEEP_LAST)."""
    policy = rule.no_data_policy
    current = run.state.state
    if policy is NoDataPolicy.KEEP_LAST:
        return False
    if policy is NoDataPolicy.ALERTING:
        _decide(run, rule, rule.severity, Reason.NO_DATA)
    elif policy is NoDataPolicy.NODATA:
        if current is not NODATA:
            run.move(NODATA, Reason.NO_DATA, threshold=None)
    elif current in _ALERTING:
        run.move(RESOLVED, Reason.NO_DATA, threshold=None)
    elif current in (PENDING, NODATA, ERROR):
        run.move(OK, Reason.NO_DATA, threshold=None)
    return True


def _expire_acknowledgement(run: _Run, rule: AlertRule) -> None:
    s = run.state
    ack = s.ack
    expired = ack is not None and ack.until_us is not None and run.now >= ack.until_us
    if s.state is ACKNOWLEDGED and expired:
        run.move(FIRING, Reason.ACK_EXPIRED, threshold=rule.threshold_for(s.severity))


# -- bookkeeping ---------------------------------------------------------------------------


@dataclass(slots=True)
class _Move:
    """A transition whose `notify` is known only once the evaluation ends."""

    from_state: AlertState
    to_state: AlertState
    value: float | None
    threshold: float | None
    reason: Reason
    severity: AlertSeverity | None
    by: str
    comment: str


class _Run:
    """One evaluation in progress: the state so far and the moves made."""

    __slots__ = ("last_point_us", "moves", "now", "state", "value")

    def __init__(self, state: InstanceState, now_us: int, value: float | None) -> None:
        self.state = state
        self.now = now_us
        self.value = value
        self.last_point_us: int | None = None  # set when a newer point prompted this run
        self.moves: list[_Move] = []

    def move(
        self,
        to: AlertState,
        reason: Reason,
        *,
        threshold: float | None,
        severity: AlertSeverity | None = None,
        by: str = "",
        comment: str = "",
        **changes: Any,
    ) -> None:
        s = self.state
        if to in (OK, RESOLVED, NODATA, ERROR):
            shown, kept = (s.severity if to in (OK, RESOLVED) else None), None
        else:
            shown = kept = severity if severity is not None else s.severity
        self.moves.append(_Move(s.state, to, self.value, threshold, reason, shown, by, comment))
        changes.setdefault("ack", s.ack if to is ACKNOWLEDGED else None)
        self.state = s.evolve(
            state=to, since_us=self.now, severity=kept, keep_firing_since_us=None, **changes
        )


def _finish(
    run: _Run, flapping: FlappingSettings | None, decided: bool
) -> tuple[InstanceState, list[Transition]]:
    s = run.state
    changes: dict[str, Any] = {}
    if decided and run.value is not s.value:
        changes["value"] = run.value
    if run.last_point_us is not None:
        changes["last_point_us"] = run.last_point_us
    is_flapping = s.flapping
    if decided and flapping is not None:
        history, is_flapping = track(s.history, s.flapping, s.state, flapping)
        changes["history"], changes["flapping"] = history, is_flapping
        if is_flapping != s.flapping:
            reason = Reason.FLAPPING_STARTED if is_flapping else Reason.FLAPPING_STOPPED
            run.moves.append(_Move(s.state, s.state, run.value, None, reason, s.severity, "", ""))
    told = (s.notified_state, s.notified_severity)
    out = []
    for m in run.moves:
        news = _news(m.to_state, m.severity)
        notify = not is_flapping and m.to_state not in _NEVER_NOTIFIED
        notify = notify and (news != told or m.reason is Reason.ACK_EXPIRED)
        if notify:
            told = news
        out.append(
            Transition(
                s.key,
                m.from_state,
                m.to_state,
                run.now,
                m.value,
                m.threshold,
                m.reason,
                severity=m.severity,
                notify=notify,
                by=m.by,
                comment=m.comment,
            )
        )
    if told != (s.notified_state, s.notified_severity):
        changes["notified_state"], changes["notified_severity"] = told
    return (s.evolve(**changes) if changes else s), out


def _news(
    state: AlertState, severity: AlertSeverity | None
) -> tuple[AlertState, AlertSeverity | None]:
    """What a notification about `state` tells: its level, and the severity if firing."""
    shown = level(state)
    return shown, (severity if shown is FIRING else None)
