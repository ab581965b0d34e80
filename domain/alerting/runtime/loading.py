"""Running rules rebuilt from the store: instance states restored, windows refilled."""

from __future__ import annotations

from collections.abc import Iterable

from domain.alerting import Alert, InstanceKey, InstanceState, RuleEvaluator
from domain.alerting.evaluator import Point
from domain.alerting.points import read_points
from domain.alerting.runtime.index import RunningRule
from domain.matchers import matches_all
from domain.metrics.ports import MetricStore

__all__ = ["PRIME_POINTS", "build", "recent_points"]

PRIME_POINTS = 200_000  # per (project, metric): the newest this many refill the windows


async def recent_points(
    metrics: MetricStore, alerts: list[Alert], now_us: int, *, limit: int = PRIME_POINTS
) -> dict[str, list[Point]]:
    """The points inside each alert's window, oldest first, by alert id. One read per
    (project, metric) serves every rule over that metric."""
    groups: dict[tuple[str, str], list[Alert]] = {}
    found: dict[str, list[Point]] = {}
    for alert in alerts:
        if alert.rule.derived:  # its windows read values derived live, not stored points
            found[alert.id] = []
            continue
        groups.setdefault((alert.project, alert.rule.metric), []).append(alert)
    for (project, metric), members in groups.items():
        widest = max(a.rule.window_us for a in members)
        # One rule (or rules with the same matchers, as when an alert is created): the
        # store selects its series, instead of every point of the metric being read.
        matchers = {a.rule.matchers for a in members}
        shared = matchers.pop() if len(matchers) == 1 else ()
        points = await read_points(
            metrics, project, metric, matchers=shared, start_us=now_us - widest, limit=limit
        )
        for alert in members:
            rule = alert.rule
            cutoff = now_us - rule.window_us
            found[alert.id] = [
                p for p in points if p[1] > cutoff and matches_all(rule.matchers, p[0])
            ]
    return found


def build(
    alert: Alert,
    states: Iterable[InstanceState],
    points: list[Point],
    *,
    saved: dict[InstanceKey, InstanceState] | None = None,
) -> RunningRule:
    """A running rule from stored (or carried-over) states and its window's points.

    `saved` is what the store holds of the states; None: `states` came from the store.
    States of another group-by width belong to an older version of the rule and are left
    out. A state's last point moves up to the newest point of its group, so a restart does
    not mistake points stored after the last checkpoint for silence.
    """
    rule = alert.rule
    width = len(rule.group_by)
    latest: dict[InstanceKey, int] = {}
    for tags, ts_us, _ in points:
        group = rule.group_of(tags)
        if ts_us > latest.get(group, ts_us - 1):
            latest[group] = ts_us
    states = list(states)
    if saved is None:
        saved = {s.key: s for s in states}
    kept: list[InstanceState] = []
    for state in states:
        if len(state.key) != width:
            continue
        newest = latest.get(state.key)
        if newest is not None and (state.last_point_us is None or newest > state.last_point_us):
            state = state.evolve(last_point_us=newest)
        kept.append(state)
    evaluator = RuleEvaluator(rule, states=kept)
    evaluator.prime(points)
    return RunningRule(alert, evaluator, saved=dict(saved))
