"""A cohort: the rules that see exactly the same points the same way (project, metric,
matchers, group-by, aggregation, window) share one window and one aggregate per point.

Fast path (docs/decisions/0010-alert-evaluation-fast-path.md): while a group's aggregate
stays inside the `quiet_range` of every member's instance of that group, a point changes
nothing but their last value and point time. The cohort then only notes that value and
time, and folds them into the states before anyone reads or evaluates them, so the
states seen are exactly those the full state machine would have produced. A LAST
cohort's quiet points may wait in a lane (last_lane.py, decision 0040) until the cohort
is read again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from domain.alerting.model import InstanceKey, RuleAggregation, Transition
from domain.alerting.quiet import Quiet, intersect
from domain.alerting.rule import AlertRule
from domain.alerting.state import InstanceState, Observation
from domain.alerting.windows import DEFAULT_MAX_POINTS, GroupWindows
from domain.matchers import TagMatcher

if TYPE_CHECKING:
    from domain.alerting.evaluator import RuleEvaluator
    from domain.alerting.last_lane import LastLane

__all__ = ["Cohort", "CohortKey", "cohort_key"]

CohortKey = tuple[str, tuple[TagMatcher, ...], tuple[str, ...], RuleAggregation, int]


def cohort_key(rule: AlertRule) -> CohortKey | None:
    """What rules must share to share a window; None for a rule that keeps its own.

    A rule whose no-data period is shorter than its window keeps its own: when it forgets
    a silent instance, points still inside the window go with its buffer, which a shared
    buffer, kept for the other rules' instances, could not do.
    """
    if rule.no_data_period_us < rule.window_us:
        return None
    return rule.input_name, rule.matchers, rule.group_by, rule.aggregation, rule.window_us


class Cohort:
    """Rules sharing one window; `observe` feeds a point to every member at once."""

    def __init__(self, rule: AlertRule, *, max_points: int = DEFAULT_MAX_POINTS) -> None:
        self.key = cohort_key(rule)  # None: never shared
        self.windows = GroupWindows(
            rule.aggregation, rule.window_us, rule.group_by, max_points=max_points
        )
        self.members: list[RuleEvaluator] = []
        self.clock_us: int | None = None
        self._quiet: dict[InstanceKey, Quiet | None] = {}  # every member's, per group
        # Not folded yet, per group: the value, and the latest point time (None: no point
        # since the last fold, only a tick's value).
        self._fresh: dict[InstanceKey, tuple[float | None, int | None]] = {}
        # The lane holding this cohort's latest quiet points (last_lane.py), if one does:
        # every method below takes them back (`settle`) before it reads or moves anything.
        self.lane: LastLane | None = None

    def settle(self) -> None:
        """Take back what a lane holds for this cohort."""
        if self.lane is not None:
            self.lane.flush(self)

    def observe(
        self, tags: Mapping[str, str], ts_us: int, value: float
    ) -> list[tuple[RuleEvaluator, Transition]]:
        """A point known to match the members' rules: update its group's window and
        evaluate that group now, so a crossing is seen at ingest and not at the next tick."""
        if self.lane is not None:
            self.lane.flush(self)
        try:
            seen = self.windows.observe(tags, ts_us, value, self.clock_us)
        except (ArithmeticError, ValueError):  # recorded as ERROR
            seen = self._failed(tags, ts_us)
        if seen is None:
            return []
        group, now, aggregate = seen
        self.clock_us = now
        quiet = self._quiet.get(group) or self.quiet(group)
        if (
            quiet is not None
            and aggregate is not None
            and quiet.lo < aggregate < quiet.hi
            and now < quiet.until_us
        ):
            noted = self._fresh.get(group)
            latest = noted[1] if noted is not None else None
            self._fresh[group] = (aggregate, ts_us if latest is None or ts_us > latest else latest)
            return []
        return self._moved(group, now, aggregate, ts_us)

    def _moved(
        self, group: InstanceKey, now: int, aggregate: float | None, ts_us: int
    ) -> list[tuple[RuleEvaluator, Transition]]:
        """A point whose aggregate is not quiet: every member runs the full machine."""
        self.fold(group)
        observation = Observation(aggregate, point_us=ts_us)
        out: list[tuple[RuleEvaluator, Transition]] = []
        for member in self.members:
            state = member._states.get(group) or InstanceState(key=group)
            moved = member._evaluate(state, observation, now)
            if moved:
                out += [(member, t) for t in moved]
        return out

    def tick(self, now_us: int) -> list[tuple[RuleEvaluator, Transition]]:
        """Advance time for every member at once, as each member's `tick` would.

        A group whose aggregate every member's instance admits as quiet, none of them
        silent, only takes the new value, noted like a quiet point's: no state is built.
        Every other group goes through each member's full tick, in the members' order."""
        now = self.advance(now_us)
        members = self.members
        fresh = self._fresh
        quiet_groups: set[InstanceKey] = set()
        for key in members[0]._states if members else ():
            quiet = self._quiet.get(key) or self.quiet(key)  # not None: every member has it
            if quiet is None:
                continue
            noted = fresh.get(key)
            point = None if noted is None else noted[1]
            if any(_silent(m._states[key], point, now, m.no_data_after) for m in members):
                continue
            aggregate = self.aggregate(key, now)
            if quiet.admits(aggregate, now):
                fresh[key] = (aggregate, point)
                quiet_groups.add(key)
        out: list[tuple[RuleEvaluator, Transition]] = []
        for member in members:
            states = member._states
            if quiet_groups and len(states) <= len(quiet_groups) and quiet_groups >= states.keys():
                continue  # every group of it is quiet: its tick would change nothing
            moved = member._tick(now, skip=quiet_groups)
            if moved:
                out += [(member, t) for t in moved]
        return out

    def quiet(self, group: InstanceKey) -> Quiet | None:
        """Where every member's instance of `group` is quiet (cached until one changes)."""
        if self.lane is not None:
            self.lane.flush(self)
        return self.quiet_unsettled(group)

    def quiet_unsettled(self, group: InstanceKey) -> Quiet | None:
        """`quiet` for a lane attaching this cohort: the ranges depend only on the members'
        state-machine fields, which a lane never holds."""
        quiet = self._quiet.get(group)
        if quiet is None and group not in self._quiet:
            quiet = self._quiet[group] = intersect([m.quiet_of(group) for m in self.members])
        return quiet

    def join(self, evaluator: RuleEvaluator, *, take_window: bool = True) -> None:
        """`evaluator` evaluates on this cohort's window from now on. With `take_window`
        its own window, just refilled from the store, replaces each group's buffer it
        holds at least as recent points of (see `GroupWindows.take_newer`)."""
        old = evaluator.cohort
        if old is self:
            return
        old.settle()
        self.settle()
        if take_window and old.members == [evaluator]:
            self.windows.take_newer(old.windows)
        old.fold()
        old.members.remove(evaluator)
        old._quiet.clear()
        self.fold()
        self.members.append(evaluator)
        self._quiet.clear()
        evaluator.cohort = self
        if old.clock_us is not None:
            self.advance(old.clock_us)

    def leave(self, evaluator: RuleEvaluator) -> None:
        """`evaluator` stops sharing this window; it keeps its states in a cohort of its
        own with an empty window (used to resolve what it had when a rule is removed)."""
        if evaluator.cohort is not self:
            return
        self.settle()
        alone = Cohort(evaluator.rule, max_points=self.windows.max_points)
        alone.join(evaluator, take_window=False)

    def fold(self, group: InstanceKey | None = None) -> None:
        """Write the noted values and point times into the members' states (of `group`,
        or of every group)."""
        if self.lane is not None:
            self.lane.flush(self)
        fresh = self._fresh
        if not fresh:
            return
        if group is None:
            noted = list(fresh.items())
            fresh.clear()
        elif group in fresh:
            noted = [(group, fresh.pop(group))]
        else:
            return
        for key, (value, point_us) in noted:
            for member in self.members:
                state = member._states.get(key)
                if state is None:  # cannot happen: every member had one when it was noted
                    continue
                last = state.last_point_us
                if point_us is not None and (last is None or point_us > last):
                    last = point_us
                member._states[key] = state.evolve(value=value, last_point_us=last)

    def advance(self, now_us: int) -> int:
        """Move the clock to `now_us` if it is later; the clock."""
        if self.lane is not None:
            self.lane.flush(self)
        clock = self.clock_us
        if clock is None or now_us > clock:
            self.clock_us = clock = now_us
        return clock

    def aggregate(self, group: InstanceKey, now: int) -> float | None:
        """The group's aggregate at `now`; NaN (recorded as ERROR) if it cannot be computed."""
        if self.lane is not None:
            self.lane.flush(self)
        try:
            return self.windows.aggregate(group, now)
        except (ArithmeticError, ValueError):
            return float("nan")

    def _failed(self, tags: Mapping[str, str], ts_us: int) -> tuple[InstanceKey, int, float]:
        """The point was added but its aggregate could not be computed: NaN."""
        clock = self.clock_us
        now = ts_us if clock is None or ts_us > clock else clock
        return self.windows.group_of(tags), now, float("nan")

    def forget(self, group: InstanceKey) -> None:
        """A member forgot its instance of `group`: drop the buffer with the last one."""
        self.settle()
        self._quiet.pop(group, None)
        if not any(group in m._states for m in self.members):
            self.windows.discard(group)


def _silent(state: InstanceState, noted_us: int | None, now: int, period: int) -> bool:
    """No point for `period`: the state's last point, or a later one noted since."""
    last = state.last_point_us
    if noted_us is not None and (last is None or noted_us > last):
        last = noted_us
    return last is None or now - last >= period
