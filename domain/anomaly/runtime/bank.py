"""DetectorBank: the anomaly detectors of this process, fed by the alert engine.

The engine hands every batch it evaluates to `observe` (the ingest hot path): each point of
a covered series goes through its detectors (domain/anomaly/detector.py, O(1) each); the
scores become the derived 0/1 series of the ANOMALY rules reading them, anomaly events,
stored anomalies and per-minute band rows. Detectors exist for every series that an
enabled detection (configureAnomalyDetection) or an ANOMALY rule covers, one per series
and model (direction, seasonality), shared by every owner in this process; with several
processes, all of a metric's detectors and rules run in one (`placement_of`).

A new detector starts from its stored state, else from the series' history (seeding.py),
in the background: meanwhile its points are kept and flag nothing, then replayed.
States are written at every checkpoint and when detectors stop (`drop`, `close`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, tzinfo
from typing import Any

import numpy as np

from domain.alerting.model import AnomalySettings
from domain.alerting.ports import Picker, Scoring
from domain.anomaly.detection import AnomalyDetection
from domain.anomaly.ports import AnomalyStore
from domain.anomaly.read_models import DetectorStatus
from domain.anomaly.records import BAND_STEP_US, AnomalyRecord, BandRow
from domain.anomaly.runtime.rows import DetectorRows
from domain.anomaly.runtime.scoring import BatchScoring
from domain.anomaly.runtime.slots import CoveredRule, MetricSlots, Owner, Slot
from domain.anomaly.runtime.status import status_of
from domain.matchers import matches_all
from domain.metrics.events import MetricCollectedEvent
from domain.metrics.ports import MetricStore
from domain.ports import Clock

__all__ = ["CoveredRule", "DetectorBank"]

logger = logging.getLogger("vigil.anomaly")

PRUNE_EVERY_US = 3_600_000_000
EMPTY = Scoring()


class DetectorBank(BatchScoring):
    """Implements alerting's PointScorer port and the AnomalyRuntime port in one process."""

    def __init__(
        self,
        store: AnomalyStore,
        metrics: MetricStore,
        clock: Clock,
        *,
        tz: tzinfo = UTC,
        retention_us: int = 30 * 86_400_000_000,
        seed: bool = True,
    ) -> None:
        self._store = store
        self._metrics = metrics
        self._clock = clock
        self._tz = tz
        self._retention_us = retention_us
        self._seed = seed
        self._by_project: dict[str, dict[str, MetricSlots]] = {}
        self._rows = DetectorRows()
        self._at_row: dict[int, tuple[MetricSlots, Slot]] = {}
        self._series_rows: dict[str, dict[int, int]] = {}  # project -> series id -> row
        self._several_rows: dict[str, dict[int, list[int]]] = {}
        self._detections: dict[str, AnomalyDetection] = {}
        self._rules: dict[str, tuple[str, str]] = {}  # alert id -> (project, metric)
        self._records: list[AnomalyRecord] = []
        self._bands: list[BandRow] = []
        self._leaving: dict[str, tuple[str, dict[str, Any]]] = {}  # states of dropped slots
        self._stored: dict[str, dict[str, dict[str, Any]]] = {}  # placement -> key -> state
        self._warming: list[tuple[MetricSlots, Slot]] = []
        self._warmer: asyncio.Task[None] | None = None
        self._writing = asyncio.Lock()
        self._writer: asyncio.Task[None] | None = None
        self._pruned_us = 0

    # -- the ingest hot path -------------------------------------------------------------

    def wants(self, project: str) -> bool:
        return project in self._by_project

    @property
    def projects(self) -> frozenset[str]:
        return frozenset(self._by_project)

    def observe(self, event: MetricCollectedEvent) -> Scoring:
        """Score each point of the batch with the detectors of its series (scoring.py)."""
        out = self._score_batch(event)
        if out is None:
            return EMPTY
        if out.events and (self._writer is None or self._writer.done()):
            # Written within milliseconds, as alert transitions are: off the ingest path.
            self._writer = asyncio.ensure_future(self.flush(self._clock.now_us(), everything=False))
        return Scoring([d.event(out.project) for d in out.derived.values()], out.events)

    # -- owners ----------------------------------------------------------------------------

    def cover(self, alert: CoveredRule) -> None:
        """Own the detectors of the rule's series (a rule covered again is updated in
        place: its detectors keep what they learned)."""
        rule = alert.rule
        settings = rule.anomaly or AnomalySettings()
        where = (alert.project, rule.metric)
        if self._rules.get(alert.id, where) != where:
            self.uncover(alert.id)
        owner = Owner(
            alert.id,
            rule.matchers,
            (settings.direction, settings.seasonality),
            settings.min_score,
            rule.input_name,
        )
        self._set_owner(alert.project, rule.metric, owner)
        self._rules[alert.id] = where

    def uncover(self, alert_id: str) -> None:
        where = self._rules.pop(alert_id, None)
        if where is not None:
            self._remove_owner(*where, alert_id)

    async def reload_detection(self, detection: AnomalyDetection) -> None:
        """The AnomalyRuntime port: run this version of an enabled detection."""
        old = self._detections.get(detection.id)
        if old is not None and old.metric != detection.metric:
            self._remove_owner(old.project, old.metric, old.id)
        self._add(detection)

    async def remove_detection(self, detection: AnomalyDetection) -> None:
        old = self._detections.pop(detection.id, None)
        if old is not None:
            self._remove_owner(old.project, old.metric, old.id)

    def detectors(self, detection_id: str) -> list[DetectorStatus] | None:
        detection = self._detections.get(detection_id)
        if detection is None:
            return None
        metric = self._by_project.get(detection.project, {}).get(detection.metric)
        if metric is None:
            return []
        model = (detection.config.direction, detection.config.seasonality)
        return [
            status_of(slot)
            for slot in sorted(metric.slots.values(), key=lambda s: sorted(s.tags.items()))
            if slot.model == model and matches_all(detection.matchers, slot.tags)
        ]

    def _add(self, detection: AnomalyDetection) -> None:
        c = detection.config
        owner = Owner(
            detection.id, detection.matchers, (c.direction, c.seasonality), c.threshold, None
        )
        self._set_owner(detection.project, detection.metric, owner)
        self._detections[detection.id] = detection

    def _set_owner(self, project: str, metric: str, owner: Owner) -> None:
        self._forget_routes(project)
        slots = self._metric(project, metric)
        self._leave(slots, slots.set_owner(owner))

    def _forget_routes(self, project: str) -> None:
        """The owners change: every series of the project is routed again when next met."""
        self._series_rows.pop(project, None)
        self._several_rows.pop(project, None)

    def _leave(self, metric: MetricSlots, orphans: list[Slot]) -> None:
        """Detectors nobody wants: their last band and state are written at the next flush."""
        for slot in orphans:
            self._close_band(metric, slot)
            if slot.warm is None:  # its state is kept for whoever takes it next
                (state,) = self._rows.pool.states([slot.row])
                self._leaving[slot.key] = (slot.placement, state)
            self._at_row.pop(slot.row, None)
            self._rows.give_back(slot.row)

    def _metric(self, project: str, metric: str) -> MetricSlots:
        by_metric = self._by_project.setdefault(project, {})
        found = by_metric.get(metric)
        if found is None:
            found = by_metric[metric] = MetricSlots(project, metric, self._rows)
        return found

    def _remove_owner(self, project: str, metric: str, owner_id: str) -> None:
        by_metric = self._by_project.get(project, {})
        slots = by_metric.get(metric)
        if slots is None:
            return
        self._forget_routes(project)
        self._leave(slots, slots.remove_owner(owner_id))
        if not slots.owners:
            del by_metric[metric]
            if not by_metric:
                del self._by_project[project]

    # -- lifetime --------------------------------------------------------------------------

    async def adopt(self, wanted: Picker) -> int:
        detections = [
            d
            for d in await self._store.enabled_detections()
            if wanted(d) and d.id not in self._detections
        ]
        for detection in detections:
            self._add(detection)
        return len(detections)

    async def drop(self, wanted: Picker, *, save: bool) -> int:
        """Stop the detections `wanted` picks; the engine uncovers the rules it drops."""
        dropped = [d for d in self._detections.values() if wanted(d)]
        for detection in dropped:
            await self.remove_detection(detection)
        for placement in [p for p in self._stored if wanted(_Placed(p))]:
            del self._stored[placement]  # read again when taken back: another may write
        if save:
            await self.flush(self._clock.now_us(), everything=True)
        else:
            self._leaving.clear()
        return len(dropped)

    async def flush(self, now_us: int, *, everything: bool) -> None:
        async with self._writing:
            await self._write(now_us, everything)

    async def close(self) -> None:
        if self._warmer is not None:
            self._warmer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._warmer
        now = self._clock.now_us()
        for by_metric in self._by_project.values():
            for metric in by_metric.values():
                for slot in metric.slots.values():
                    self._close_band(metric, slot)
        await self.flush(now, everything=True)

    async def _write(self, now_us: int, everything: bool) -> None:
        tallies = self._rows
        over = (tallies.band_points > 0) & (tallies.band_bucket + BAND_STEP_US <= now_us)
        for row in np.flatnonzero(over).tolist():  # only taken rows have an open minute
            self._close_band(*self._at_row[row])
        records, self._records = self._records, []
        bands, self._bands = self._bands, []
        states = dict(self._leaving)
        learned: list[tuple[Slot, int]] = []
        if everything:
            learned = self._learned()
            pool_states = self._rows.pool.states([s.row for s, _ in learned])
            states.update(
                (s.key, (s.placement, state))
                for (s, _), state in zip(learned, pool_states, strict=True)
            )
        try:
            if records:
                await self._store.add_anomalies(records)
                records = []
            if bands:
                await self._store.add_band_rows(bands)
                bands = []
            if states:
                await self._store.save_detector_states(states)
        except BaseException as exc:  # kept for the next write (a cancelled one too)
            self._records[:0] = records
            self._bands[:0] = bands
            if not isinstance(exc, Exception):
                raise
            logger.exception("writing anomaly detection failed; retried at the next tick")
            return
        for key in states:
            self._leaving.pop(key, None)
        for slot, generation in learned:
            if self._at_row.get(slot.row, (None, None))[1] is slot:
                self._rows.saved[slot.row] = generation
        if now_us - self._pruned_us >= PRUNE_EVERY_US:
            self._pruned_us = now_us
            try:
                await self._store.prune(now_us - self._retention_us)
            except Exception:
                logger.exception("pruning old anomalies failed")

    def _learned(self) -> list[tuple[Slot, int]]:
        """The ready detectors that learned since they were last written, with how far."""
        tallies = self._rows
        return [
            (slot, int(tallies.learned[slot.row]))
            for _, slot in self._at_row.values()
            if slot.warm is None and tallies.saved[slot.row] != tallies.learned[slot.row]
        ]


class _Placed:
    __slots__ = ("placement",)

    def __init__(self, placement: str) -> None:
        self.placement = placement
