"""The evaluator before its fast path: every point through the full state machine, one
window per rule. The fast path's tests compare RuleEvaluator and Cohort with it."""

from __future__ import annotations

from collections.abc import Mapping

from domain.alerting import (
    NO_DATA,
    AlertRule,
    AlertState,
    GroupWindows,
    InstanceKey,
    InstanceState,
    Observation,
    Transition,
    acknowledge,
    evaluate,
    resolve,
)
from domain.errors import NotFound

__all__ = ["ReferenceEvaluator"]


class ReferenceEvaluator:
    def __init__(self, rule: AlertRule) -> None:
        self.rule = rule
        self.windows = GroupWindows(rule.aggregation, rule.window_us, rule.group_by)
        self.instances: dict[InstanceKey, InstanceState] = {}
        self.clock: int | None = None

    def observe(self, tags: Mapping[str, str], ts_us: int, value: float) -> list[Transition]:
        group = self.windows.add(tags, ts_us, value)
        if group is None:
            return []
        now = self.advance(ts_us)
        state = self.instances.get(group) or InstanceState(key=group)
        return self._evaluate(state, self._window(group, now, ts_us), now)

    def tick(self, now_us: int) -> list[Transition]:
        now = self.advance(now_us)
        period = self.rule.no_data_period_us
        out: list[Transition] = []
        for key, state in list(self.instances.items()):
            last = state.last_point_us
            silent = last is None or now - last >= period
            out += self._evaluate(state, NO_DATA if silent else self._window(key, now), now)
            kept = self.instances[key]
            if silent and (
                kept.state is AlertState.OK
                or (
                    kept.state is AlertState.RESOLVED
                    and kept.since_us is not None
                    and now - kept.since_us >= period
                )
            ):
                del self.instances[key]
                self.windows.discard(key)
        return out

    def acknowledge(self, key: InstanceKey, now_us: int, until_us: int | None) -> list[Transition]:
        state, out = acknowledge(
            self._get(key), self.advance(now_us), by="alice", comment="", until_us=until_us
        )
        self.instances[key] = state
        return out

    def resolve(self, key: InstanceKey, now_us: int) -> list[Transition]:
        state, out = resolve(self._get(key), self.advance(now_us), by="bob", comment="")
        self.instances[key] = state
        return out

    def advance(self, now_us: int) -> int:
        if self.clock is None or now_us > self.clock:
            self.clock = now_us
        return self.clock

    def _window(self, group: InstanceKey, now: int, point_us: int | None = None) -> Observation:
        try:
            return Observation(self.windows.aggregate(group, now), point_us=point_us)
        except (ArithmeticError, ValueError):
            return Observation(float("nan"), point_us=point_us)

    def _evaluate(
        self, state: InstanceState, observation: Observation, now: int
    ) -> list[Transition]:
        new_state, out = evaluate(state, observation, self.rule, now)
        self.instances[state.key] = new_state
        return out

    def _get(self, key: InstanceKey) -> InstanceState:
        state = self.instances.get(key)
        if state is None:
            raise NotFound(f"no alert instance {list(key)!r}")
        return state
