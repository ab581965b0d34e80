"""The rules this process evaluates, indexed by (project, metric) for the ingest hot path."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any

from domain.alerting import Alert, InstanceKey, InstanceState, RuleEvaluator, Transition
from domain.alerting.evaluator import Cohort, CohortKey, cohort_key
from domain.alerting.windows import Route, observe_batch
from domain.matchers import MatchOp, matches_all
from domain.metrics.events import MetricCollectedEvent

__all__ = ["MAX_ROUTES", "RuleIndex", "RunningRule"]

MAX_ROUTES = 1_000_000  # series remembered with their rules; past it the memo starts over


@dataclass(slots=True, eq=False)
class RunningRule:
    """One enabled alert being evaluated, with what is still to be stored of it."""

    alert: Alert
    evaluator: RuleEvaluator
    saved: dict[InstanceKey, InstanceState] = field(default_factory=dict)  # as last stored
    pending: list[Transition] = field(default_factory=list)  # not stored yet
    # The evaluator's generation whose states are all stored (-1: not known), and the one
    # last looked at by `changed_states` (stored once `mark_saved` follows).
    written: int = -1
    checked: int = -1

    def changed_states(self, *, everything: bool) -> list[InstanceState]:
        """The states to write: those whose state-machine fields differ from the stored
        ones, or with `everything`, also those whose last value or point time moved."""
        saved = self.saved
        evaluator = self.evaluator
        self.checked = evaluator.generation
        if not everything and self.checked == self.written:
            return []  # no state-machine field moved since everything was stored
        if everything:
            return [s for k, s in evaluator.instances.items() if saved.get(k) is not s]
        changed = []
        # Without folding the values noted since (a tick would otherwise rebuild every
        # state): those change neither `is` nor the durable fields. What is written is
        # folded, as before.
        for key, state in evaluator.states.items():
            stored = saved.get(key)
            if stored is state:  # states are immutable: the same object has not changed
                continue
            if stored is None or _durably_differ(state, stored):
                changed.append(evaluator.current(key))
        return changed

    def mark_saved(self, states: list[InstanceState]) -> None:
        self.written = self.checked
        live = self.evaluator.states
        for state in states:
            self.saved[state.key] = state
        for key in [k for k in self.saved if k not in live]:  # forgotten by the evaluator
            del self.saved[key]


# What a restart needs exactly; `value` and `last_point_us` move with every point and are
# written at checkpoints (a restart also takes the last point from the stored points).
_DURABLE = attrgetter(
    *(f.name for f in fields(InstanceState) if f.name not in ("value", "last_point_us"))
)


def _durably_differ(a: InstanceState, b: InstanceState) -> bool:
    return bool(_DURABLE(a) != _DURABLE(b))


class _MetricRules:
    """The rules over one metric of one project, and which cohorts each series feeds.

    A rule with an equality matcher (host = "web-1") is filed under that tag, so a series
    is tested only against the rules filed under one of its own tags and the rules with
    no such matcher: 10,000 rules, one per host, cost a few look-ups per new series, not
    10,000 matcher calls. A series' cohorts are remembered until the rules change.
    """

    __slots__ = ("by_tag", "routes", "rules", "unfiled")

    def __init__(self) -> None:
        self.rules: list[RunningRule] = []
        self.by_tag: dict[tuple[str, str], list[RunningRule]] = {}
        self.unfiled: list[RunningRule] = []
        self.routes: dict[int, list[Cohort]] = {}  # series id -> the cohorts it feeds

    def add(self, running: RunningRule) -> None:
        self.rules.append(running)
        self._file(running).append(running)
        self.routes.clear()

    def remove(self, running: RunningRule) -> None:
        self.rules.remove(running)
        self._file(running).remove(running)
        self.routes.clear()

    def route(self, series: dict[str, Any]) -> list[Cohort]:
        hits = self.routes.get(series["id"])
        if hits is None:
            tags = series["tags"]
            candidates = list(self.unfiled)
            for item in tags.items():
                candidates += self.by_tag.get(item, ())
            matching = (r for r in candidates if matches_all(r.alert.rule.matchers, tags))
            hits = list(dict.fromkeys(r.evaluator.cohort for r in matching))
            if len(self.routes) >= MAX_ROUTES:
                self.routes.clear()
            self.routes[series["id"]] = hits
        return hits

    def _file(self, running: RunningRule) -> list[RunningRule]:
        for m in running.alert.rule.matchers:
            if m.op is MatchOp.EQ and m.value:  # `= ""` also matches a missing tag
                return self.by_tag.setdefault((m.key, m.value), [])
        return self.unfiled


class RuleIndex:
    """Running rules by alert id, and by project and metric name: a point reaches only the
    rules of its own metric whose matchers its series passes. Rules of one project that
    share a window (`cohort_key`) are evaluated through one `Cohort`."""

    def __init__(self) -> None:
        self._by_id: dict[str, RunningRule] = {}
        self._by_metric: dict[str, dict[str, _MetricRules]] = {}
        self._cohorts: dict[tuple[str, CohortKey], Cohort] = {}
        self._owners: dict[RuleEvaluator, RunningRule] = {}

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[RunningRule]:
        return iter(list(self._by_id.values()))

    def get(self, alert_id: str) -> RunningRule | None:
        return self._by_id.get(alert_id)

    def owner(self, evaluator: RuleEvaluator) -> RunningRule | None:
        """The running rule of `evaluator` (None once it was removed or replaced)."""
        return self._owners.get(evaluator)

    def add(self, running: RunningRule) -> None:
        """Add the rule, replacing the one of the same alert id if there is one. It joins
        the cohort of its window if one runs (whose live window then replaces the one it
        was primed with), else its own cohort becomes that window's."""
        self.pop(running.alert.id)
        alert = running.alert
        evaluator = running.evaluator
        key = cohort_key(alert.rule)
        if key is not None:
            cohort = self._cohorts.get((alert.project, key))
            if cohort is None:
                self._cohorts[(alert.project, key)] = evaluator.cohort
            else:
                cohort.join(evaluator)
        self._owners[evaluator] = running
        self._by_id[alert.id] = running
        by_name = self._by_metric.setdefault(alert.project, {})
        by_name.setdefault(alert.rule.input_name, _MetricRules()).add(running)

    def pop(self, alert_id: str) -> RunningRule | None:
        running = self._by_id.pop(alert_id, None)
        if running is None:
            return None
        alert = running.alert
        evaluator = running.evaluator
        del self._owners[evaluator]
        cohort = evaluator.cohort
        cohort.leave(evaluator)
        if not cohort.members and cohort.key is not None:
            del self._cohorts[(alert.project, cohort.key)]
        by_name = self._by_metric[alert.project]
        name = alert.rule.input_name
        rules = by_name[name]
        rules.remove(running)
        if not rules.rules:
            del by_name[name]
            if not by_name:
                del self._by_metric[alert.project]
        return running

    def observe(self, event: MetricCollectedEvent) -> list[tuple[RunningRule, Transition]]:
        """Feed each point of the batch to the cohorts it matches (the ingest hot path)."""
        by_name = self._by_metric.get(event.project)
        if not by_name:
            return []
        routes: list[Route | None] = []
        found = False
        for s in event.series:
            rules = by_name.get(s["name"])
            if rules is None:
                routes.append(None)
                continue
            # `route` inlined for a known series (see `observe_batch` on calls here)
            hits = rules.routes.get(s["id"])
            if hits is None:
                hits = rules.route(s)
            if hits:
                routes.append((s["tags"], hits))
                found = True
            else:
                routes.append(None)
        if not found:
            return []
        moved = observe_batch(routes, event.series_index, event.timestamps_us, event.values)
        owners = self._owners
        return [(owners[evaluator], t) for evaluator, t in moved]
