"""The derived series an engine evaluates besides the metrics' points: the 0/1 anomaly
series of ANOMALY rules (from a PointScorer: the anomaly detectors) and the forecasts of
FORECAST rules (from a ForecastRunner). Both become batches fed to the same rule index."""

from __future__ import annotations

from domain.alerting.model import RuleKind, Transition
from domain.alerting.ports import Picker, PointScorer
from domain.alerting.runtime.forecasts import ForecastRunner
from domain.alerting.runtime.index import RuleIndex, RunningRule
from domain.events import Event
from domain.metrics.events import MetricCollectedEvent

__all__ = ["DerivedSeries"]

Fired = list[tuple[RunningRule, Transition]]


class DerivedSeries:
    """Keeps the scorer's coverage in step with the index, and feeds the index what the
    scorer and the forecasts derive."""

    def __init__(
        self,
        index: RuleIndex,
        scorer: PointScorer | None = None,
        forecasts: ForecastRunner | None = None,
    ) -> None:
        self.index = index
        self.scorer = scorer
        self.forecasts = forecasts
        # The FORECAST rules, by alert id: the schedule looks at them every second, and
        # must not walk 10,000 threshold rules to find them.
        self._forecast_rules: dict[str, RunningRule] = {}

    def add(self, running: RunningRule) -> None:
        """Index a rule; an ANOMALY rule's series get their detectors."""
        previous = self.index.get(running.alert.id)
        self.index.add(running)
        if running.alert.rule.kind is RuleKind.FORECAST:
            self._forecast_rules[running.alert.id] = running
        else:
            self._forecast_rules.pop(running.alert.id, None)
        scorer = self.scorer
        if scorer is None:
            return
        if running.alert.rule.kind is RuleKind.ANOMALY:
            scorer.cover(running.alert)
        elif previous is not None and previous.alert.rule.kind is RuleKind.ANOMALY:
            scorer.uncover(running.alert.id)

    def pop(self, alert_id: str) -> RunningRule | None:
        running = self.index.pop(alert_id)
        self._forecast_rules.pop(alert_id, None)
        scorer = self.scorer
        if running is not None and scorer is not None and running.alert.rule.derived:
            scorer.uncover(alert_id)
        return running

    def observe(self, event: MetricCollectedEvent) -> tuple[Fired, list[Event]]:
        """The batch through the detectors: what the ANOMALY rules did with their derived
        points, and the anomaly events to publish."""
        scorer = self.scorer
        if scorer is None or not scorer.wants(event.project):
            return [], []
        scoring = scorer.observe(event)
        fired: Fired = []
        for derived in scoring.derived:
            fired += self.index.observe(derived)
        return fired, scoring.events

    async def forecast(self, now_us: int) -> Fired:
        """The FORECAST rules due at `now_us`, evaluated."""
        runner = self.forecasts
        if runner is None or not self._forecast_rules:
            return []
        rules = [(r.alert.id, r.alert.project, r.alert.rule) for r in self._forecast_rules.values()]
        fired: Fired = []
        if rules:
            for batch in await runner.due(rules, now_us):
                fired += self.index.observe(batch)
        return fired

    @property
    def projects(self) -> frozenset[str]:
        return self.scorer.projects if self.scorer is not None else frozenset()

    async def adopt(self, wanted: Picker) -> None:
        if self.scorer is not None:
            await self.scorer.adopt(wanted)

    async def drop(self, wanted: Picker, *, save: bool) -> None:
        if self.scorer is not None:
            await self.scorer.drop(wanted, save=save)

    async def flush(self, now_us: int, *, everything: bool) -> None:
        if self.scorer is not None:
            await self.scorer.flush(now_us, everything=everything)

    async def close(self) -> None:
        if self.scorer is not None:
            await self.scorer.close()
