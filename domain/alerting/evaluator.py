"""Rules evaluated in memory: their windows and the states of their alert instances.

A `RuleEvaluator` holds one rule's instance states. Its windows belong to its `Cohort`:
the rules that see exactly the same points the same way (project, metric, matchers,
group-by, aggregation, window) share one buffer and one aggregate per point, so ten
rules over one series that differ only in their thresholds add one point, not ten. An
evaluator built on its own is alone in its cohort, and behaves as one rule would.

Time never goes backwards inside a cohort: it evaluates at the latest of the tick times
and point timestamps seen, so a late point or a slow tick cannot undo a pending period.
Instances that are OK, or RESOLVED for a whole no-data period, and have had no data for
the rule's no-data period are forgotten (their series went away); a group's buffer goes
with the last member instance of that group.

The fast path, where a point changes nothing but the instances' last value and point
time, is the cohort's (cohort.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from domain.alerting.cohort import Cohort, CohortKey, cohort_key
from domain.alerting.machine import acknowledge, evaluate, resolve
from domain.alerting.model import AlertState, InstanceKey, Transition
from domain.alerting.quiet import Quiet, quiet_range
from domain.alerting.rule import AlertRule
from domain.alerting.state import NO_DATA, InstanceState, Observation
from domain.alerting.windows import DEFAULT_MAX_POINTS, GroupWindows
from domain.errors import NotFound
from domain.matchers import matches_all

__all__ = ["Cohort", "CohortKey", "RuleEvaluator", "cohort_key"]

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
        self.no_data_after = rule.no_data_period_us  # asked of every instance at every tick
        # Grows whenever a state-machine field of an instance may have changed (`_put`):
        # a writer that saw this generation written needs to look at no state.
        self.generation = 0
        self._states: dict[InstanceKey, InstanceState] = {s.key: s for s in states}
        self.cohort = Cohort(rule, max_points=max_points)
        self.cohort.members.append(self)
        seen = [s.last_point_us for s in self._states.values() if s.last_point_us is not None]
        self.cohort.clock_us = max(seen) if seen else None

    @property
    def windows(self) -> GroupWindows:
        self.cohort.settle()
        return self.cohort.windows

    @property
    def instances(self) -> Mapping[InstanceKey, InstanceState]:
        self.cohort.fold()
        return self._states

    @property
    def states(self) -> Mapping[InstanceKey, InstanceState]:
        """The states as last evaluated, without folding what the cohort noted since:
        the state-machine fields are current, `value` and `last_point_us` may lag."""
        return self._states

    def current(self, key: InstanceKey) -> InstanceState:
        """The state of `key` (one of `states`) with what was noted since folded in."""
        self.cohort.fold(key)
        return self._states[key]

    @property
    def clock_us(self) -> int | None:
        """The evaluator's time: the latest tick or point timestamp seen."""
        self.cohort.settle()
        return self.cohort.clock_us

    def matches(self, name: str, tags: Mapping[str, str]) -> bool:
        return name == self.rule.input_name and matches_all(self.rule.matchers, tags)

    def observe(self, tags: Mapping[str, str], ts_us: int, value: float) -> list[Transition]:
        """A point known to match the rule, fed to its cohort; this rule's transitions.
        (Evaluators sharing a cohort are fed through `Cohort.observe`, once per point.)"""
        return [t for member, t in self.cohort.observe(tags, ts_us, value) if member is self]

    def prime(self, points: Iterable[Point]) -> None:
        """Refill the windows after a restart (points from the store) without evaluating."""
        add = self.windows.add
        for tags, ts_us, value in points:
            add(tags, ts_us, value)

    def tick(self, now_us: int) -> list[Transition]:
        """Advance time for every instance: pending and keep-firing periods, window
        expiry, acknowledgement expiry and no data. (Alone in its cohort, the cohort's
        `tick`; the engine ticks each cohort once, through `Cohort.tick`.)"""
        cohort = self.cohort
        if cohort.members == [self]:
            return [t for _, t in cohort.tick(now_us)]
        now = cohort.advance(now_us)
        cohort.fold()
        return self._tick(now)

    def _tick(
        self, now: int, skip: set[InstanceKey] | frozenset[InstanceKey] = frozenset()
    ) -> list[Transition]:
        """The tick of every instance whose group is not in `skip`."""
        cohort = self.cohort
        no_data_after = self.no_data_after
        out: list[Transition] = []
        for key in list(self._states):
            if key in skip:
                continue
            cohort.fold(key)
            state = self._states[key]
            last = state.last_point_us
            silent = last is None or now - last >= no_data_after
            if silent:
                out += self._evaluate(state, NO_DATA, now)
            else:
                aggregate = cohort.aggregate(key, now)
                quiet = cohort.quiet(key)
                if quiet is not None and quiet.admits(aggregate, now):  # only the value moves
                    if aggregate is not state.value:
                        self._states[key] = state.evolve(value=aggregate)
                    continue
                out += self._evaluate(state, Observation(aggregate), now)
            if silent and _forgettable(self._states[key], now, no_data_after):
                del self._states[key]
                cohort.forget(key)
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
            self._get(key), self.cohort.advance(now_us), by=by, comment=comment, until_us=until_us
        )
        self._put(state)
        return out

    def resolve(
        self, key: InstanceKey, now_us: int, *, by: str, comment: str = ""
    ) -> list[Transition]:
        state, out = resolve(self._get(key), self.cohort.advance(now_us), by=by, comment=comment)
        self._put(state)
        return out

    def snapshot(self) -> list[dict[str, Any]]:
        """The instance states, JSON-ready; `RuleEvaluator.restore` rebuilds them."""
        return [state.to_dict() for state in self.instances.values()]

    @classmethod
    def restore(
        cls, rule: AlertRule, snapshot: Iterable[Mapping[str, Any]], **options: Any
    ) -> RuleEvaluator:
        return cls(rule, states=[InstanceState.from_dict(d) for d in snapshot], **options)

    def quiet_of(self, group: InstanceKey) -> Quiet | None:
        """Where this rule's instance of `group` takes the fast path (None: nowhere)."""
        state = self._states.get(group)
        return None if state is None else quiet_range(state, self.rule)

    # -------------------------------------------------------------------------------------

    def _evaluate(
        self, state: InstanceState, observation: Observation, now: int
    ) -> list[Transition]:
        new_state, out = evaluate(state, observation, self.rule, now)
        self._put(new_state)
        return out

    def _put(self, state: InstanceState) -> None:
        self.cohort.settle()  # its quiet ranges are about to change
        self._states[state.key] = state
        self.generation += 1
        self.cohort._quiet.pop(state.key, None)

    def _get(self, key: InstanceKey) -> InstanceState:
        key = tuple(key)
        self.cohort.fold(key)
        state = self._states.get(key)
        if state is None:
            raise NotFound(f"no alert instance {list(key)!r} for rule {self.rule.name!r}")
        return state


def _forgettable(state: InstanceState, now: int, period: int) -> bool:
    if state.state is AlertState.OK:
        return True
    since = state.since_us
    return state.state is AlertState.RESOLVED and since is not None and now - since >= period
