"""Rule preview (backtest): the live evaluator replayed over stored points."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.alerting.evaluator import Point, RuleEvaluator
from domain.alerting.model import Transition
from domain.alerting.rule import AlertRule
from domain.alerting.state import InstanceState
from domain.errors import BadUserInput
from domain.matchers import matches_all

__all__ = ["MAX_PREVIEW_POINTS", "MAX_PREVIEW_TICKS", "PreviewResult", "preview"]

MAX_PREVIEW_TICKS = 100_000
MAX_PREVIEW_POINTS = 1_000_000


@dataclass(frozen=True, slots=True)
class PreviewResult:
    transitions: tuple[Transition, ...]
    notifications: tuple[Transition, ...]  # the transitions with notify=True
    instances: tuple[InstanceState, ...]  # where each instance stands at the end


def preview(
    rule: AlertRule,
    points: Iterable[Point],
    *,
    start_us: int,
    end_us: int,
    tick_us: int,
) -> PreviewResult:
    """Replay the points of [start, end) in time order through a fresh RuleEvaluator,
    ticking at start + k * tick (a tick due at a point's timestamp runs before it), and
    once more for each tick up to `end`. The same code as live evaluation, so a backtest
    cannot disagree with it. Points of other series (by the rule's matchers) are skipped;
    the caller selects the metric."""
    if tick_us <= 0:
        raise BadUserInput("tick must be a positive number of microseconds")
    if end_us <= start_us:
        raise BadUserInput("the preview's end must be after its start")
    if (end_us - start_us) // tick_us > MAX_PREVIEW_TICKS:
        raise BadUserInput(f"a preview runs at most {MAX_PREVIEW_TICKS} ticks; use a larger tick")
    selected = [p for p in points if start_us <= p[1] < end_us and matches_all(rule.matchers, p[0])]
    if len(selected) > MAX_PREVIEW_POINTS:
        raise BadUserInput(f"a preview replays at most {MAX_PREVIEW_POINTS} points")
    selected.sort(key=lambda p: p[1])  # stable: equal timestamps keep their given order

    evaluator = RuleEvaluator(rule)
    out: list[Transition] = []
    next_tick = start_us + tick_us
    for tags, ts_us, value in selected:
        while next_tick <= ts_us:
            out += evaluator.tick(next_tick)
            next_tick += tick_us
        out += evaluator.observe(tags, ts_us, value)
    while next_tick <= end_us:
        out += evaluator.tick(next_tick)
        next_tick += tick_us
    return PreviewResult(
        transitions=tuple(out),
        notifications=tuple(t for t in out if t.notify),
        instances=tuple(evaluator.instances.values()),
    )
