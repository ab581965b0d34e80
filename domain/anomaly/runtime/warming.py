"""Warming new detectors in the background: from their stored state, else from the
series' history (seeding.py); meanwhile their live points are kept, then learned."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any

from domain.anomaly.detector import AnomalyDetector
from domain.anomaly.model import placement_of
from domain.anomaly.ports import AnomalyStore
from domain.anomaly.records import BAND_STEP_US, BandRow
from domain.anomaly.runtime.output import band_row
from domain.anomaly.runtime.rows import DetectorRows
from domain.anomaly.runtime.seeding import read_history, replay
from domain.anomaly.runtime.slots import MetricSlots, Slot
from domain.metrics.ports import MetricStore
from domain.ports import Clock

__all__ = ["BAND_HISTORY_US", "Warming"]

logger = logging.getLogger("vigil.anomaly")

BAND_HISTORY_US = 86_400_000_000  # a new detector's band rows reach a day back


class Warming:
    """The DetectorBank's warming of new detectors (a mixin: the bank holds the state)."""

    _store: AnomalyStore
    _metrics: MetricStore
    _clock: Clock
    _seed: bool
    _warming: list[tuple[MetricSlots, Slot]]
    _warmer: asyncio.Task[None] | None
    _stored: dict[str, dict[str, dict[str, Any]]]
    _leaving: dict[str, tuple[str, dict[str, Any]]]
    _bands: list[BandRow]
    _rows: DetectorRows

    def _close_band(self, metric: MetricSlots, slot: Slot) -> None:
        """A slot's band bucket is over: its row joins the rows to write."""
        closed = self._rows.close_band(slot.row)
        if closed is not None:
            bucket, sums, points = closed
            self._bands.append(
                band_row(
                    metric.project, metric.metric, slot.series_id, slot.tags, bucket, sums, points
                )
            )

    # -- warming new detectors -----------------------------------------------------------

    def _start_warming(self) -> None:
        if self._warmer is None or self._warmer.done():
            self._warmer = _spawn(self._warm_all())

    async def warmed(self) -> None:
        """Wait until every detector made so far is warm (tests, benchmarks)."""
        while self._warmer is not None and not self._warmer.done():
            await asyncio.shield(self._warmer)

    async def _warm_all(self) -> None:
        while self._warming:
            batch, self._warming = self._warming, []
            by_metric: dict[int, tuple[MetricSlots, list[Slot]]] = {}
            for metric, slot in batch:
                by_metric.setdefault(id(metric), (metric, []))[1].append(slot)
            for metric, slots in by_metric.values():
                try:
                    await self._warm(metric, slots)
                except Exception:
                    logger.exception("seeding the detectors of %s failed", metric.metric)
                    for slot in slots:
                        if metric.slots.get(slot.key) is slot:
                            self._ready(slot)  # they go on from what they learned live

    async def _warm(self, metric: MetricSlots, slots: list[Slot]) -> None:
        placement = placement_of(metric.project, metric.metric)
        stored = self._stored.get(placement)
        if stored is None:
            stored = self._stored[placement] = await self._store.load_detector_states([placement])
        fresh: list[Slot] = []
        for slot in slots:
            state = stored.pop(slot.key, None)
            leaving = self._leaving.pop(slot.key, None)
            if leaving is not None:  # dropped and wanted again before it was written
                state = leaving[1]
            if state is None:
                fresh.append(slot)
                continue
            detector = AnomalyDetector.from_state(state)
            self._swap(metric, slot, detector)
        fresh = [s for s in fresh if metric.slots.get(s.key) is s]
        if not fresh:
            return
        now = self._clock.now_us()
        history = {}
        if self._seed:
            series = [(s.series_id, dict(s.tags)) for s in fresh]
            history = await read_history(self._metrics, metric.project, metric.metric, series, now)
        for slot in fresh:
            if metric.slots.get(slot.key) is not slot:
                continue  # dropped while its history was read: its row is another's now
            detector = AnomalyDetector(self._rows.pool.config(slot.row))
            stamps, values = history.get(slot.series_id, ([], []))
            for scored in replay(detector, stamps, values, keep_from_us=now - BAND_HISTORY_US):
                self._band_of(metric, slot, scored.timestamp_us, scored)
            self._swap(metric, slot, detector)

    def _band_of(self, metric: MetricSlots, slot: Slot, ts_us: int, scored: Any) -> None:
        rows, row = self._rows, slot.row
        bucket = ts_us - ts_us % BAND_STEP_US
        if bucket != rows.band_bucket[row]:
            if bucket < rows.band_bucket[row]:
                return
            self._close_band(metric, slot)
            rows.band_bucket[row] = bucket
        rows.band[row] += (scored.baseline, scored.lower, scored.upper)
        rows.band_points[row] += 1

    def _swap(self, metric: MetricSlots, slot: Slot, detector: AnomalyDetector) -> None:
        """The warm detector replaces the provisional one; the points it missed are learned."""
        if metric.slots.get(slot.key) is not slot or slot.warm is None:
            return
        config = self._rows.pool.config(slot.row)
        if detector.config != config:
            state = detector.to_state()
            state["config"]["sensitivity"] = config.sensitivity
            state["config"]["direction"] = config.direction.value
            state["config"]["seasonality"] = config.seasonality.value
            detector = AnomalyDetector.from_state(state)
        live = slot.warm
        if live:
            detector.seed([t for t, _ in live], [v for _, v in live], 1)
        self._rows.pool.load(slot.row, detector)
        self._ready(slot)
        self._rows.learned[slot.row] += 1

    def _ready(self, slot: Slot) -> None:
        """The slot is seeded (or gives up on it): its points flag from now on."""
        slot.warm = None
        self._rows.warming[slot.row] = False


def _spawn(work: Awaitable[None]) -> asyncio.Task[None]:
    return asyncio.ensure_future(work)
