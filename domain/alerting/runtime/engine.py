"""AlertEngine: every enabled alert of this process, evaluated as points arrive.

This is where an alert's instances change state, and the one place where a transition
becomes events: evaluation, ticks and a user's moves (acknowledge, resolve, remove) all go
through `_emit`.

Streaming: the MetricCollectedEvent handler (`on_points`) feeds each point to the rules of
its metric, inside the ingest command, so a crossing is published before the ingest
request is answered. A tick task advances time (pending and keep-firing periods, window
expiry, no data). Transitions are published as domain events at once; changed instance
states and transitions are written in the background soon after (at once for
acknowledgements and manual resolves, before their events), and every tick writes what
is still unsaved.

With several processes, `AlertCluster` (infra/alerting/cluster.py) decides which alerts
this engine evaluates (`adopt`, `drop`), feeds it the points of the other processes, and
hands it the moves users ask of another process. Derived series (the anomaly scores of
ANOMALY rules, the forecasts of FORECAST rules) ride the same path (derived.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable

from domain.alerting import (
    Alert,
    AlertState,
    AlertStore,
    InstanceKey,
    InstanceState,
    InvalidTransition,
    Transition,
    events_for,
)
from domain.alerting.ports import Picker, PointScorer
from domain.alerting.runtime.derived import DerivedSeries
from domain.alerting.runtime.forecasts import ForecastRunner
from domain.alerting.runtime.index import RuleIndex, RunningRule
from domain.alerting.runtime.loading import build, recent_points
from domain.alerting.runtime.schedule import at_fixed_rate
from domain.alerting.runtime.writes import write_changes
from domain.errors import Unavailable
from domain.events import Event
from domain.metrics.events import MetricCollectedEvent
from domain.metrics.ports import MetricStore
from domain.ports import Clock

__all__ = ["AlertEngine", "Picker", "Publish"]

logger = logging.getLogger("vigil.alerting")

Publish = Callable[[Event], Awaitable[None]]
FORECAST_POLL_SECONDS = 1.0  # how often due FORECAST rules are looked for

CHECKPOINT_SECONDS = 60.0  # every value and last-point time is written at least this often
TICK_SLICE = 200  # rules ticked between two yields to the event loop

_ACKNOWLEDGEABLE = (AlertState.FIRING, AlertState.ACKNOWLEDGED)
_SETTLED = (AlertState.OK, AlertState.RESOLVED)


class AlertEngine:
    """Implements the AlertRuntime port in one process; `start` before use, `close` at the
    end."""

    def __init__(
        self,
        alerts: AlertStore,
        metrics: MetricStore,
        clock: Clock,
        *,
        tick_seconds: float = 10.0,
        scorer: PointScorer | None = None,
        forecasts: ForecastRunner | None = None,
    ) -> None:
        self._alerts = alerts
        self._metrics = metrics
        self._clock = clock
        self._tick_seconds = tick_seconds
        self._index = RuleIndex()
        self.derived = DerivedSeries(self._index, scorer, forecasts)
        self._publish: Publish | None = None
        self._writing = asyncio.Lock()  # one writer at a time: no write lands after a delete
        self._dirty: set[str] = set()  # alert ids with transitions not yet written
        self._tasks: set[asyncio.Task[None]] = set()
        self._flusher: asyncio.Task[None] | None = None
        self._checkpoint_us = 0  # when every state was last written

    # -- lifetime ---------------------------------------------------------------------------

    async def start(self, publish: Publish, *, wanted: Picker | None = None) -> None:
        """Load the enabled alerts `wanted` picks (default: all), then tick."""
        self._publish = publish
        await self.adopt(wanted or (lambda _: True))
        if self._tick_seconds > 0:
            self._spawn(at_fixed_rate(self._tick_seconds, self.tick, "alert tick"))
            if self.derived.forecasts is not None:
                forecasts = self.evaluate_forecasts
                self._spawn(at_fixed_rate(FORECAST_POLL_SECONDS, forecasts, "forecasting"))
        logger.info("alert engine started with %d rules", len(self._index))

    async def adopt(self, wanted: Picker) -> int:
        """Start evaluating the enabled alerts `wanted` picks that are not running yet:
        instances restored from the store, windows refilled from the stored points."""
        alerts = [a for a in await self._alerts.enabled_alerts() if wanted(a) and a.id not in self]
        points = await recent_points(self._metrics, alerts, self._clock.now_us())
        for alert in alerts:
            states = await self._alerts.load_instances(alert.id)
            async with self._writing:
                if alert.id not in self:
                    self.derived.add(build(alert, states, points[alert.id]))
        await self.derived.adopt(wanted)
        return len(alerts)

    async def drop(self, wanted: Picker, *, save: bool) -> int:
        """Stop evaluating the alerts `wanted` picks, as another process takes them over;
        with `save`, their states are written first (not when the other already owns them)."""
        async with self._writing:
            dropped = [r for r in self._index if wanted(r.alert)]
            for running in dropped:
                self.derived.pop(running.alert.id)
                self._dirty.discard(running.alert.id)
                if save:
                    try:
                        await self._write(running, everything=True)
                    except Exception:
                        logger.exception("writing the state of alert %s failed", running.alert.id)
        await self.derived.drop(wanted, save=save)
        return len(dropped)

    async def refill(self) -> None:
        """Rebuild every window from the stored points, after points may have been missed
        (an event bus outage): the next evaluation sees them."""
        alerts = [r.alert for r in self._index]
        points = await recent_points(self._metrics, alerts, self._clock.now_us())
        async with self._writing:
            for alert in alerts:
                current = self._index.get(alert.id)
                if current is None or current.alert is not alert:
                    continue  # changed meanwhile: rebuilt from fresh points already
                states = current.evaluator.instances.values()
                running = build(alert, states, points[alert.id], saved=current.saved)
                running.pending = current.pending
                self.derived.add(running)

    def __contains__(self, alert_id: object) -> bool:
        return isinstance(alert_id, str) and self._index.get(alert_id) is not None

    @property
    def projects(self) -> frozenset[str]:
        """The projects with at least one alert or detector evaluated here."""
        return frozenset(r.alert.project for r in self._index) | self.derived.projects

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._flush(self._index, everything=True)
        await self.derived.close()

    @property
    def rules(self) -> int:
        return len(self._index)

    def rule_metrics(self) -> list[tuple[str, str]]:
        """(project, metric) of each rule evaluated here: usage accounting counts their
        evaluations and their reads (domain/usage/runner.py)."""
        return [(r.alert.project, r.alert.rule.metric) for r in self._index]

    # -- evaluation -------------------------------------------------------------------------

    async def on_points(self, event: MetricCollectedEvent, _: object = None) -> None:
        """The MetricCollectedEvent handler: the ingest hot path."""
        fired = self._index.observe(event)
        if self.derived.scorer is not None:
            scored, anomalies = self.derived.observe(event)
            fired += scored
            for anomaly in anomalies:
                await self._publish_event(anomaly)
        if fired:
            await self._emit(fired)
            if self._flusher is None or self._flusher.done():
                self._flusher = self._spawn(self._flush_dirty())

    async def tick(self, now_us: int | None = None) -> None:
        """Advance every rule to `now_us` (default: the clock), publish, then write what
        changed (at a checkpoint: every state whose value moved, too)."""
        now = self._clock.now_us() if now_us is None else now_us
        index = self._index
        rules = list(index)
        fired: list[tuple[RunningRule, Transition]] = []
        # Each cohort once (rules sharing a window): one aggregate per group for all.
        ticked = 0
        for cohort in dict.fromkeys(r.evaluator.cohort for r in rules):
            for evaluator, transition in cohort.tick(now):
                running = index.owner(evaluator)
                if running is not None:  # not removed meanwhile
                    fired.append((running, transition))
            ticked += len(cohort.members)
            if ticked >= TICK_SLICE:
                ticked = 0
                await asyncio.sleep(0)  # let ingest in between
        if len(fired) > 1:  # published in the rules' order, as when each rule ticked alone
            order = {id(r): n for n, r in enumerate(rules)}
            fired.sort(key=lambda f: order.get(id(f[0]), len(order)))
        await self._emit(fired)
        # Half a tick early: with ticks every 10 s, every sixth tick is a checkpoint, not
        # the sixth or the seventh as the clock's jitter falls.
        early_us = self._tick_seconds * 500_000
        checkpoint = now - self._checkpoint_us >= CHECKPOINT_SECONDS * 1_000_000 - early_us
        if checkpoint:
            self._checkpoint_us = now
        await self._flush(self._index, everything=checkpoint)
        await self.derived.flush(now, everything=checkpoint)

    async def evaluate_forecasts(self, now_us: int | None = None) -> None:
        """The FORECAST rules due now (every window), evaluated and published."""
        now = self._clock.now_us() if now_us is None else now_us
        fired = await self.derived.forecast(now)
        if fired:
            await self._emit(fired)
            if self._flusher is None or self._flusher.done():
                self._flusher = self._spawn(self._flush_dirty())

    # -- the AlertEngine port ---------------------------------------------------------------

    async def reload(self, alert: Alert) -> None:
        current = self._index.get(alert.id)
        if current is not None and current.alert.rule == alert.rule:
            current.alert = alert
            return
        points = (await recent_points(self._metrics, [alert], self._clock.now_us()))[alert.id]
        stored = [] if current is not None else await self._alerts.load_instances(alert.id)
        async with self._writing:
            current = self._index.get(alert.id)  # the awaits above let others move it
            if current is None:
                running = build(alert, stored, points)
            else:
                running = build(
                    alert, current.evaluator.instances.values(), points, saved=current.saved
                )
                running.pending = current.pending
            self.derived.add(running)

    async def remove(self, alert: Alert, *, by: str, comment: str) -> list[Transition]:
        async with self._writing:
            running = self.derived.pop(alert.id)
            if running is None:
                return []
            evaluator = running.evaluator
            now = self._clock.now_us()
            moved: list[Transition] = []
            for key, state in list(evaluator.instances.items()):
                if state.state not in _SETTLED:
                    moved += evaluator.resolve(key, now, by=by, comment=comment)
            running.pending += moved
            self._dirty.discard(alert.id)
            await self._write(running)
        await self._publish_moves(running.alert, moved)
        return moved

    async def acknowledge(
        self,
        alert: Alert,
        key: InstanceKey | None,
        *,
        by: str,
        comment: str,
        until_us: int | None,
    ) -> list[Transition]:
        running = self._running(alert)
        keys = self._keys(running, key, _ACKNOWLEDGEABLE, "acknowledge: no instance is firing")
        now = self._clock.now_us()
        moved: list[Transition] = []
        for k in keys:
            moved += running.evaluator.acknowledge(
                k, now, by=by, comment=comment, until_us=until_us
            )
        await self._record(running, moved)
        await self._publish_moves(running.alert, moved, ack_until_us=until_us)
        return moved

    async def resolve(
        self, alert: Alert, key: InstanceKey | None, *, by: str, comment: str
    ) -> list[Transition]:
        running = self._running(alert)
        unsettled = tuple(s for s in AlertState if s not in _SETTLED)
        keys = self._keys(running, key, unsettled, "resolve: every instance is OK or resolved")
        now = self._clock.now_us()
        moved: list[Transition] = []
        for k in keys:
            moved += running.evaluator.resolve(k, now, by=by, comment=comment)
        await self._record(running, moved)
        await self._publish_moves(running.alert, moved)
        return moved

    def instances(self, alert_id: str) -> list[InstanceState] | None:
        running = self._index.get(alert_id)
        return None if running is None else list(running.evaluator.instances.values())

    # -- helpers ----------------------------------------------------------------------------

    def _running(self, alert: Alert) -> RunningRule:
        running = self._index.get(alert.id)
        if running is None:
            raise Unavailable("this alert is not being evaluated right now; retry shortly")
        return running

    @staticmethod
    def _keys(
        running: RunningRule,
        key: InstanceKey | None,
        states: tuple[AlertState, ...],
        nothing: str,
    ) -> list[InstanceKey]:
        """The one instance asked for, else every instance in one of `states`."""
        if key is not None:
            return [key]
        keys = [k for k, s in running.evaluator.instances.items() if s.state in states]
        if not keys:
            raise InvalidTransition(f"nothing to {nothing}")
        return sorted(keys)

    async def _record(self, running: RunningRule, moved: list[Transition]) -> None:
        """A user's move is written before it is answered."""
        async with self._writing:
            running.pending += moved
            await self._write(running)

    async def _emit(self, fired: list[tuple[RunningRule, Transition]]) -> None:
        """Evaluation's transitions: kept to be written, and published at once."""
        for running, transition in fired:
            running.pending.append(transition)
            self._dirty.add(running.alert.id)
            await self._publish_moves(running.alert, [transition])

    async def _publish_moves(
        self, alert: Alert, moved: list[Transition], *, ack_until_us: int | None = None
    ) -> None:
        """Each transition as its events, in order: the only place transitions are turned
        into events, whichever process asked for the move."""
        publish = self._publish
        if publish is None:
            return
        for transition in moved:
            for event in events_for(
                alert.project, alert.id, alert.rule, transition, ack_until_us=ack_until_us
            ):
                await publish(event)

    async def _flush_dirty(self) -> None:
        while self._dirty:
            ids, self._dirty = self._dirty, set()
            await self._flush([r for i in ids if (r := self._index.get(i)) is not None])

    async def _flush(self, rules: Iterable[RunningRule], *, everything: bool = False) -> None:
        async with self._writing:
            try:
                await self._write(*rules, everything=everything)
            except Exception:  # kept pending: the next tick writes it again
                logger.exception("writing the state of alerts failed")

    async def _write(self, *rules: RunningRule, everything: bool = False) -> None:
        await write_changes(self._alerts, rules, everything=everything, slice_size=TICK_SLICE)

    async def _publish_event(self, event: Event) -> None:
        if self._publish is not None:
            await self._publish(event)

    def _spawn(self, work: Awaitable[None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
