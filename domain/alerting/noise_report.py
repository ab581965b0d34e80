"""`alertNoise`: each alert's noise over its recent history, and suggestions backtested by
replaying the rule, changed, over the same stored points (the preview's evaluator)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from domain.alerting.alert import Alert
from domain.alerting.evaluator import Point
from domain.alerting.model import RuleKind, Transition
from domain.alerting.noise import Episode, NoiseStats, episodes, noise_of
from domain.alerting.points import read_points
from domain.alerting.ports import AlertRuntime, AlertStore, HistoryScorer
from domain.alerting.preview import MAX_PREVIEW_POINTS, preview
from domain.alerting.preview_derived import anomaly_points
from domain.alerting.queries import GetAlertNoiseQuery
from domain.alerting.read_models import AlertDto
from domain.alerting.rule import AlertRule
from domain.durations import seconds_of
from domain.errors import BadUserInput, VigilError
from domain.metrics.ports import MetricStore
from domain.paging import check_first
from domain.ports import Clock

__all__ = ["AlertNoiseDto", "Suggestion", "alert_noise"]

DAY_US = 86_400_000_000
MAX_DAYS = 30
MAX_TRANSITIONS = 20_000  # read per alert
BACKTEST_TICK_US = 30_000_000
BACKTEST_POINTS = 300_000  # per alert; beyond it no suggestion is backtested
FOR_CANDIDATES_US = (60_000_000, 180_000_000, 300_000_000, 600_000_000)
KEEP_FIRING_CANDIDATE_US = 300_000_000
FLAPPY = 0.2  # a share of re-firings from which keep-firing is tried


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A change of the rule, backtested: how often it would have fired (`firings`) against
    the current rule replayed the same way (`baseline_firings`), and how many of the
    acknowledged firings it would have missed."""

    change: str
    firings: int
    baseline_firings: int
    missed_acknowledged: int
    acknowledged: int
    text: str


@dataclass(frozen=True, slots=True)
class AlertNoiseDto:
    alert: AlertDto
    days: int
    stats: NoiseStats
    suggestions: tuple[Suggestion, ...]
    note: str  # why there are no suggestions, if there are none


async def alert_noise(
    query: GetAlertNoiseQuery,
    *,
    alerts: AlertStore,
    alert_runtime: AlertRuntime,
    metrics: MetricStore,
    clock: Clock,
    history_scorer: HistoryScorer | None = None,
) -> list[AlertNoiseDto]:
    """Every alert of the project, noisiest first; the first `first` with suggestions."""
    check_first(query.first)
    if not 1 <= query.days <= MAX_DAYS:
        raise BadUserInput(f"days must be within 1-{MAX_DAYS}")
    now = clock.now_us()
    since = now - query.days * DAY_US
    found: list[tuple[Alert, list[Transition], NoiseStats]] = []
    for alert in await alerts.list_alerts(query.project):
        history = await alerts.list_transitions(query.project, alert.id, first=MAX_TRANSITIONS)
        recent = [t for t in history if t.at_us >= since]
        found.append((alert, recent, noise_of(recent, query.days)))
    found.sort(key=lambda f: (-f[2].noise, -f[2].firings_per_day, f[0].id))
    out = []
    for alert, recent, stats in found[: query.first]:
        suggestions: tuple[Suggestion, ...] = ()
        note = ""
        if stats.firings == 0:
            note = "it did not fire in the period"
        else:
            try:
                suggestions = await _suggest(
                    alert, recent, stats, metrics, history_scorer, since, now, query.days
                )
            except VigilError as exc:  # too many points, no scorer here, ...
                note = exc.message
            if not suggestions and not note:
                note = "no change tried would have fired less without missing an acknowledged one"
        live = alert_runtime.instances(alert.id) if alert.enabled else None
        states = live if live is not None else await alerts.load_instances(alert.id)
        width = len(alert.rule.group_by)
        view = AlertDto(
            alert, tuple(sorted((s for s in states if len(s.key) == width), key=lambda s: s.key))
        )
        out.append(AlertNoiseDto(view, query.days, stats, suggestions, note))
    return out


async def _suggest(
    alert: Alert,
    recent: list[Transition],
    stats: NoiseStats,
    metrics: MetricStore,
    scorer: HistoryScorer | None,
    since: int,
    now: int,
    days: int,
) -> tuple[Suggestion, ...]:
    rule = alert.rule
    if rule.kind is RuleKind.FORECAST:
        raise BadUserInput("FORECAST rules are not backtested here (one fit per evaluation)")
    points = await _points(alert, metrics, scorer, since, now)
    variants: list[tuple[str, AlertRule]] = [
        (f"for: {_text(us)}", replace(rule, for_us=us))
        for us in FOR_CANDIDATES_US
        if us > rule.for_us
    ]
    if stats.flapping_share >= FLAPPY and rule.keep_firing_for_us < KEEP_FIRING_CANDIDATE_US:
        us = KEEP_FIRING_CANDIDATE_US
        variants.append((f"keepFiringFor: {_text(us)}", replace(rule, keep_firing_for_us=us)))
    baseline = _firings(rule, points, since, now)
    acknowledged = [e for e in episodes(recent) if e.acknowledged]
    found = []
    for change, variant in variants:
        runs = _firings(variant, points, since, now)
        missed = sum(1 for e in acknowledged if not _covered(e, runs, variant, now))
        if len(runs) >= len(baseline):
            continue
        none = "none" if missed == 0 else str(missed)
        text = (
            f"with `{change}` this rule would have fired {len(runs)} times instead of "
            f"{len(baseline)} in the last {days} days, missing {none} of the "
            f"{len(acknowledged)} firings that were acknowledged"
        )
        found.append(Suggestion(change, len(runs), len(baseline), missed, len(acknowledged), text))
    found.sort(key=lambda s: (s.missed_acknowledged, s.firings))
    return tuple(found)


async def _points(
    alert: Alert, metrics: MetricStore, scorer: HistoryScorer | None, since: int, now: int
) -> list[Point]:
    rule = alert.rule
    if rule.kind is RuleKind.ANOMALY:
        return await anomaly_points(metrics, scorer, alert.project, rule, since, now)
    return await read_points(
        metrics,
        alert.project,
        rule.metric,
        matchers=rule.matchers,
        start_us=since - rule.window_us,
        end_us=now,
        limit=min(BACKTEST_POINTS, MAX_PREVIEW_POINTS),
        over_limit=f"more than {BACKTEST_POINTS} points in the period: not backtested",
    )


def _firings(rule: AlertRule, points: list[Point], since: int, now: int) -> list[Episode]:
    result = preview(rule, points, start_us=since, end_us=now, tick_us=BACKTEST_TICK_US)
    return episodes(result.transitions)


def _covered(actual: Episode, runs: list[Episode], variant: AlertRule, now: int) -> bool:
    """Did the variant fire for this instance while the acknowledged episode lasted (or
    within its pending period after)?"""
    end = (actual.resolved_us if actual.resolved_us is not None else now) + variant.for_us
    return any(
        r.key == actual.key
        and r.fired_us <= end
        and (r.resolved_us is None or r.resolved_us >= actual.fired_us)
        for r in runs
    )


def _text(us: int) -> str:
    seconds = seconds_of(us) or 0.0
    return f"{int(seconds // 60)}m" if seconds % 60 == 0 else f"{int(seconds)}s"
