"""One rule evaluated in memory: its windows and the states of its alert instances.

Time never goes backwards inside an evaluator: it evaluates at the latest of the tick
times and point timestamps seen, so a late point or a slow tick cannot undo a pending
period. Instances that are OK, or RESOLVED for a whole no-data period, and have had no
data for the rule's no-data period are forgotten (their series went away).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from domain.alerting.machine import acknowledge, evaluate, resolve
from domain.alerting.model import AlertState, InstanceKey, Transition
from domain.alerting.rule import AlertRule
from domain.alerting.state import NO_DATA, InstanceState, Observation
from domain.alerting.windows import DEFAULT_MAX_POINTS, GroupWindows
from domain.errors import NotFound
from domain.metrics import matches_all

__all__ = ["RuleEvaluator"]

Point = tuple[Mapping[str, str], int, float]


class RuleEvaluator:
    """Streaming evaluation of one rule: `observe` each matching point, `tick` periodically."""

    def __init__(
        self,
        rule: AlertRule,
        *,
        states: Iterable[InstanceState] = (),
        max_points: int = DEFAULT_MAX_POINTS,
    ) -> None:
        self.rule = rule
        self.windows = GroupWindows(
            rule.aggregation, rule.window_us, rule.group_by, max_points=max_points
        )
        self._states: dict[InstanceKey, InstanceState] = {s.key: s for s in states}
        seen = [s.last_point_us for s in self._states.values() if s.last_point_us is not None]
        self._clock_us: int | None = max(seen) if seen else None

    @property
    def instances(self) -> Mapping[InstanceKey, InstanceState]:
        return self._states

    @property
    def clock_us(self) -> int | None:
        """The evaluator's time: the latest tick or point timestamp seen."""
        return self._clock_us

    def matches(self, name: str, tags: Mapping[str, str]) -> bool:
        return name == self.rule.metric and matches_all(self.rule.matchers, tags)

    def observe(self, tags: Mapping[str, str], ts_us: int, value: float) -> list[Transition]:
        """A point known to match the rule: update its group's window and evaluate that
        group now, so a crossing is seen at ingest and not at the next tick."""
        group = self.windows.add(tags, ts_us, value)
        if group is None:
            return []
        now = self._advance(ts_us)
        state = self._states.get(group) or InstanceState(key=group)
        return self._evaluate(state, self._window(group, now, ts_us), now)

    def prime(self, points: Iterable[Point]) -> None:
        """Refill the windows after a restart (points from the store) without evaluating."""
        for tags, ts_us, value in points:
            self.windows.add(tags, ts_us, value)

    def tick(self, now_us: int) -> list[Transition]:
        """Advance time for every instance: pending and keep-firing periods, window
        expiry, acknowledgement expiry and no data."""
        now = self._advance(now_us)
        no_data_after = self.rule.no_data_period_us
        out: list[Transition] = []
        for key, state in list(self._states.items()):
            last = state.last_point_us
            silent = last is None or now - last >= no_data_after
            observation = NO_DATA if silent else self._window(key, now)
            out += self._evaluate(state, observation, now)
            if silent and _forgettable(self._states[key], now, no_data_after):
                del self._states[key]
                self.windows.discard(key)
        return out

    def acknowledge(
        self,
        key: InstanceKey,
        now_us: int,
        *,
        by: str,
        comment: str = "",
        until_us: int | None = None,
    ) -> list[Transition]:
        state, out = acknowledge(
            self._get(key), self._advance(now_us), by=by, comment=comment, until_us=until_us
        )
        self._states[key] = state
        return out

    def resolve(
        self, key: InstanceKey, now_us: int, *, by: str, comment: str = ""
    ) -> list[Transition]:
        state, out = resolve(self._get(key), self._advance(now_us), by=by, comment=comment)
        self._states[key] = state
        return out

    def snapshot(self) -> list[dict[str, Any]]:
        """The instance states, JSON-ready; `RuleEvaluator.restore` rebuilds them."""
        return [state.to_dict() for state in self._states.values()]

    @classmethod
    def restore(
        cls, rule: AlertRule, snapshot: Iterable[Mapping[str, Any]], **options: Any
    ) -> RuleEvaluator:
        return cls(rule, states=[InstanceState.from_dict(d) for d in snapshot], **options)

    # -------------------------------------------------------------------------------------

    def _advance(self, now_us: int) -> int:
        clock = self._clock_us
        if clock is None or now_us > clock:
            self._clock_us = clock = now_us
        return clock

    def _window(self, group: InstanceKey, now: int, point_us: int | None = None) -> Observation:
        try:
            return Observation(self.windows.aggregate(group, now), point_us=point_us)
        except (ArithmeticError, ValueError):
            return Observation(float("nan"), point_us=point_us)  # recorded as ERROR

    def _evaluate(
        self, state: InstanceState, observation: Observation, now: int
    ) -> list[Transition]:
        new_state, out = evaluate(state, observation, self.rule, now)
        self._states[state.key] = new_state
        return out

    def _get(self, key: InstanceKey) -> InstanceState:
        state = self._states.get(tuple(key))
        if state is None:
            raise NotFound(f"no alert instance {list(key)!r} for rule {self.rule.name!r}")
        return state


def _forgettable(state: InstanceState, now: int, period: int) -> bool:
    if state.state is AlertState.OK:
        return True
    since = state.since_us
    return state.state is AlertState.RESOLVED and since is not None and now - since >= period
