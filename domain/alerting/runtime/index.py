"""The rules this process evaluates, indexed by (project, metric) for the ingest hot path."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Any, NamedTuple

import numpy as np

from domain.alerting import Alert, InstanceKey, InstanceState, RuleEvaluator, Transition
from domain.alerting.cohort import Cohort, CohortKey, cohort_key
from domain.alerting.last_lane import MAX_SLOTS, LastLane, takes
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


class _Hits(NamedTuple):
    """The cohorts one series feeds: `cohorts` in the rules' order; of those, `lane`
    (LAST windows, with their slots in the lane) and `others` (every point through
    `observe_batch`)."""

    cohorts: list[Cohort]
    others: list[Cohort]
    lane: tuple[Cohort, ...]
    slots: tuple[int, ...]


_NO_HITS = _Hits([], [], (), ())


def _hits(cohorts: list[Cohort], lane: LastLane, tags: dict[str, Any]) -> _Hits:
    laned = tuple(c for c in cohorts if takes(c))
    slots = tuple(lane.slot(c, c.windows.group_of(tags)) for c in laned)
    return _Hits(cohorts, [c for c in cohorts if c not in laned], laned, slots)


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
        self.routes: dict[int, _Hits] = {}  # series id -> the cohorts it feeds

    def add(self, running: RunningRule) -> None:
        self.rules.append(running)
        self._file(running).append(running)
        self.routes.clear()

    def remove(self, running: RunningRule) -> None:
        self.rules.remove(running)
        self._file(running).remove(running)
        self.routes.clear()

    def route(self, series: dict[str, Any], lane: LastLane) -> _Hits:
        hits = self.routes.get(series["id"])
        if hits is None:
            tags = series["tags"]
            candidates = list(self.unfiled)
            for item in tags.items():
                candidates += self.by_tag.get(item, ())
            matching = (r for r in candidates if matches_all(r.alert.rule.matchers, tags))
            cohorts = list(dict.fromkeys(r.evaluator.cohort for r in matching))
            hits = _hits(cohorts, lane, tags) if cohorts else _NO_HITS
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
        self._lane = LastLane()
        self.use_lane = True  # False: every point through `observe_batch` (tests compare)

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
        if not cohort.members:
            self._lane.forget(cohort)
            if cohort.key is not None:
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
        if len(self._lane) >= MAX_SLOTS:
            self._start_lane_over()
        routes: list[Route | None] = []
        found = False
        lane = self._lane
        laned: list[_Hits | None] = []
        any_laned = False
        for s in event.series:
            rules = by_name.get(s["name"])
            if rules is None:
                routes.append(None)
                laned.append(None)
                continue
            # `route` inlined for a known series (see `observe_batch` on calls here)
            hits = rules.routes.get(s["id"])
            if hits is None:
                hits = rules.route(s, lane)
            if hits.slots:
                laned.append(hits)
                any_laned = True
            else:
                laned.append(None)
            cohorts = hits.others if self.use_lane else hits.cohorts
            if cohorts:
                routes.append((s["tags"], cohorts))
                found = True
            else:
                routes.append(None)
        if any_laned and self.use_lane:
            refused = self._take(event, laned)
            if refused:  # those cohorts' points take `observe_batch`, in the rules' order
                for n, hits in enumerate(laned):
                    if hits is not None and not refused.isdisjoint(hits.lane):
                        keep = [c for c in hits.cohorts if c not in hits.lane or c in refused]
                        routes[n] = (event.series[n]["tags"], keep)
                        found = True
        if not found:
            return []
        moved = observe_batch(routes, event.series_index, event.timestamps_us, event.values)
        owners = self._owners
        return [(owners[evaluator], t) for evaluator, t in moved]

    def _take(self, event: MetricCollectedEvent, laned: Sequence[_Hits | None]) -> set[Cohort]:
        """Let the lane take the batch's points of LAST cohorts; the cohorts it refused."""
        per_series = np.fromiter(
            (0 if h is None else len(h.slots) for h in laned), dtype=np.intp, count=len(laned)
        )
        flat = np.fromiter((s for h in laned if h is not None for s in h.slots), dtype=np.intp)
        columns = event.columns()
        points = columns.series_index
        counts = per_series[points]
        first = np.cumsum(per_series) - per_series
        if int(counts.max()) <= 1:  # one LAST cohort per series at most (the usual case)
            point_of = np.flatnonzero(counts)
            slots = flat[first[points[point_of]]]
        else:
            point_of = np.repeat(np.arange(len(points)), counts)
            within = np.arange(len(point_of)) - np.repeat(np.cumsum(counts) - counts, counts)
            slots = flat[np.repeat(first[points], counts) + within]
        if not len(slots):
            return set()
        ts = columns.timestamps_us[point_of]
        values = columns.values[point_of]
        taken = self._lane.take(slots, ts, values)
        if taken.all():
            return set()
        refused = {self._lane.cohort_of(int(s)) for s in np.unique(slots[~taken])}
        for cohort in refused:  # `observe_batch` reads their Python state: take it back
            cohort.settle()
        return refused

    def _start_lane_over(self) -> None:
        self._lane.clear()
        for by_name in self._by_metric.values():
            for rules in by_name.values():
                rules.routes.clear()
