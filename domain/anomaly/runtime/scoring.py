"""Scoring a batch: each series' detector rows (memoised), the batch's points scored a
round at a time in the pool, and what the scores give (the DetectorBank's hot path, a
mixin as Warming is: the bank holds the state)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from domain.anomaly.records import BAND_STEP_US, AnomalyRecord
from domain.anomaly.runtime.output import Derived, event_of, record_of
from domain.anomaly.runtime.slots import MAX_WARM_BUFFER, MetricSlots, Slot
from domain.anomaly.runtime.warming import Warming
from domain.metrics.events import MetricCollectedEvent

__all__ = ["BatchScoring", "Output"]

MAX_ROUTES = 1_000_000  # series remembered with their rows, per project

# The memo of a series' rows holds a row, or one of these:
NONE = -1  # no detector
SEVERAL = -2  # several (in _several_rows)
UNROUTED = -3  # not met since the owners last changed

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


class Output:
    """What one batch's scores give: derived series by name, and anomaly events."""

    __slots__ = ("derived", "events", "project")

    def __init__(self, project: str) -> None:
        self.project = project
        self.derived: dict[str, Derived] = {}
        self.events: list[Any] = []


def _rounds(points: Ints, rows: Ints) -> list[Ints]:
    """`points` split so that no row is scored twice at once: the first point of each row,
    then the second, and so on (a row's points stay in the batch's order)."""
    if len(rows) < 2:
        return [points]
    ordered = np.sort(rows)
    if not (ordered[1:] == ordered[:-1]).any():
        return [points]
    by_row = np.argsort(rows, kind="stable")
    sorted_rows = rows[by_row]
    starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
    rank = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    return [points[np.sort(by_row[rank == r])] for r in range(int(rank.max()) + 1)]


class BatchScoring(Warming):
    """The DetectorBank's scoring of a batch."""

    _by_project: dict[str, dict[str, MetricSlots]]
    _at_row: dict[int, tuple[MetricSlots, Slot]]
    _series_rows: dict[str, dict[int, int]]
    _several_rows: dict[str, dict[int, list[int]]]
    _records: list[AnomalyRecord]
    _tz: Any

    def _score_batch(self, event: MetricCollectedEvent) -> Output | None:
        """Score each point of the batch with the detectors of its series, all of a
        batch's detectors together (one numpy operation per step of the model); None
        when none of its series has a detector."""
        by_metric = self._by_project.get(event.project)
        if not by_metric or not event.series:
            return None
        project = event.project
        rows_of = self._series_rows.setdefault(project, {})
        get = rows_of.get
        first = [get(s["id"], UNROUTED) for s in event.series]
        layers = [first]
        if UNROUTED in first or SEVERAL in first:
            self._route_rest(project, by_metric, event.series, layers)
        if max(max(layer) for layer in layers) < 0:
            return None  # none of the batch's series has a detector
        columns = event.columns()
        index, stamps, values = columns.series_index, columns.timestamps_us, columns.values
        out = Output(project)
        scored = np.isfinite(values)  # ingest stores finite values only; never NaN state
        for layer in layers:
            point_rows = np.asarray(layer, dtype=np.int64)[index]
            points = np.flatnonzero((point_rows >= 0) & scored)
            if not len(points):
                continue
            for at in _rounds(points, point_rows[points]):
                self._score(out, point_rows[at], stamps[at], values[at])
        return out

    def _route_rest(
        self,
        project: str,
        by_metric: dict[str, MetricSlots],
        series: list[dict[str, Any]],
        layers: list[list[int]],
    ) -> None:
        """Fill the layers where the memo did not: series met for the first time since the
        owners last changed, and series with several detectors (a layer for each)."""
        first = layers[0]
        rows_of = self._series_rows[project]
        several = self._several_rows.setdefault(project, {})
        created: list[Slot] = []
        for i, found in enumerate(first):
            if found >= NONE:
                continue
            s = series[i]
            sid = s["id"]
            if found == UNROUTED:
                metric = by_metric.get(s["name"])
                slots: list[Slot] = []
                if metric is not None:
                    before = len(created)
                    slots = metric.routes.get(sid) or metric.route(s, created)
                    for slot in created[before:]:
                        self._warming.append((metric, slot))
                        self._at_row[slot.row] = (metric, slot)
                rows = [slot.row for slot in slots]
                if len(rows) > 1:
                    several[sid] = rows
                if len(rows_of) >= MAX_ROUTES:
                    rows_of.clear()  # a memo, not a registry: it starts over
                rows_of[sid] = rows[0] if len(rows) == 1 else SEVERAL if rows else NONE
            rows = several.get(sid) or [rows_of[sid]]
            for k, row in enumerate(rows):
                if k == len(layers):
                    layers.append([NONE] * len(first))
                layers[k][i] = row
        if created:
            self._start_warming()

    def _score(self, out: Output, rows: Ints, stamps: Ints, values: Floats) -> None:
        """Score points of distinct detectors, then hand on what they give."""
        tallies = self._rows
        scores = tallies.pool.observe(rows, stamps, values)
        tallies.learned[rows] += 1
        warming = tallies.warming[rows]
        ready = ~warming
        if warming.any():  # not seeded yet: learns, and flags nothing
            for i in np.flatnonzero(warming).tolist():
                _, slot = self._at_row[int(rows[i])]
                ts_us, value = int(stamps[i]), float(values[i])
                if slot.warm is not None and len(slot.warm) < MAX_WARM_BUFFER:
                    slot.warm.append((ts_us, value))
                for name, _ in slot.families:
                    _derived(out.derived, name).add(slot.series_id, slot.tags, ts_us, 0.0)
        feeding = ready & tallies.feeds[rows]
        if feeding.any():
            for i in np.flatnonzero(feeding).tolist():
                _, slot = self._at_row[int(rows[i])]
                score = float(scores.score[i])
                ts_us = int(stamps[i])
                for name, threshold in slot.families:
                    flag = 1.0 if score >= threshold else 0.0
                    _derived(out.derived, name).add(slot.series_id, slot.tags, ts_us, flag)
        banded = ready & ~scores.learning
        for i in np.flatnonzero(banded & scores.anomalous).tolist():
            metric, slot = self._at_row[int(rows[i])]
            scored = scores.scored(i, int(stamps[i]), float(values[i]))
            record = record_of(
                out.project, metric.metric, slot.series_id, slot.tags, scored, self._tz
            )
            self._records.append(record)
            out.events.append(event_of(record))
        if banded.all():
            self._add_bands(rows, stamps, scores.baseline, scores.lower, scores.upper)
        elif banded.any():
            at = np.flatnonzero(banded)
            self._add_bands(
                rows[at], stamps[at], scores.baseline[at], scores.lower[at], scores.upper[at]
            )

    def _add_bands(
        self, rows: Ints, stamps: Ints, baseline: Floats, lower: Floats, upper: Floats
    ) -> None:
        """Add the points to their detectors' band minutes; a later minute closes the open
        one, an earlier one (a late point: its minute is written already) is left out."""
        tallies = self._rows
        buckets = stamps - stamps % BAND_STEP_US
        current = tallies.band_bucket[rows]
        later = buckets > current
        for row in rows[later & (tallies.band_points[rows] > 0)].tolist():
            self._close_band(*self._at_row[row])
        tallies.band_bucket[rows[later]] = buckets[later]
        keep = buckets >= current
        if not keep.all():
            rows, baseline, lower, upper = rows[keep], baseline[keep], lower[keep], upper[keep]
        tallies.band[rows, 0] += baseline
        tallies.band[rows, 1] += lower
        tallies.band[rows, 2] += upper
        tallies.band_points[rows] += 1


def _derived(found: dict[str, Derived], name: str) -> Derived:
    d = found.get(name)
    if d is None:
        d = found[name] = Derived(name)
    return d
