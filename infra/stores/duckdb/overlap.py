"""One point per (series, timestamp): what a group of batches may store as a plain append.

A point is named by its series and timestamp (decision 0003), so storing the same
(series, timestamp) again replaces it: the last write wins. `points` has no key (a key
cost more than half of the ingest rate, decision 0002), so the writer decides instead,
from what it remembers: for every series, an upper bound of the timestamps stored
(`LatestStamps`). A group whose points are all above their series' bound, with no
(series, timestamp) twice, is a plain append (the usual case: collectors report forward
in time). Anything else (a retried request, a backfill, a point sent twice) takes the
careful path: duplicates within the group keep their last occurrence, and stored points
at the same (series, timestamp) are deleted in the same transaction as the insert.

Only the writer thread uses this module, so nothing here takes a lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter

import numpy as np

from domain.metrics.ingest import PointBatch
from infra.stores.duckdb.runner import Cursor

__all__ = ["Columns", "LatestStamps", "Plan", "apply"]

_NONE = np.iinfo(np.int64).min  # "nothing stored" for a series
_ID = attrgetter("id")
_STORED_MAX = """
    SELECT series_id, epoch_us(max(ts)) FROM points
    WHERE ts >= make_timestamp($since) AND series_id IN (SELECT sid FROM hydrate)
    GROUP BY series_id
"""
# A few points go in as list parameters: registering arrays costs ~250 us more per statement
# up to ~64 rows (1 row: 0.49 against 0.80 ms; 8: 0.52 against 0.74; 64: 0.67 against
# 0.74; 512: 1.7 against 0.8), and a small group is the usual one under many agents.
_REGISTER_FROM = 64
_INSERT_LISTS = """
    INSERT INTO points_hot SELECT
        unnest(?::BIGINT[]), make_timestamp(unnest(?::BIGINT[])), unnest(?::DOUBLE[])
"""
# A replaced point may be in either table of the view `points` (compaction.py).
_DELETE = [
    f"""
    DELETE FROM {table} USING replaced r
    WHERE {table}.ts BETWEEN make_timestamp($lo) AND make_timestamp($hi)
      AND {table}.series_id = r.series_id AND {table}.ts = r.ts
    """
    for table in ("points_hot", "points_compacted")
]


@dataclass(slots=True)
class Columns:
    """The points of a group of batches, in arrival order; `slot` numbers the series."""

    series_ids: list[int]  # by slot
    slot: np.ndarray  # int64, one per point
    ts: np.ndarray  # int64 microseconds
    value: np.ndarray  # float64

    @classmethod
    def of(cls, batches: Sequence[PointBatch]) -> Columns:
        series_ids: list[int] = []
        slot_of: dict[int, int] | None = None  # only when batches must share slots
        slots, stamps, values = [np.empty(0, np.int64)], [np.empty(0, np.int64)], [np.empty(0)]
        for batch in batches:
            arrays = batch.as_arrays()
            index = arrays.series_index
            if not len(index) == len(arrays.timestamps_us) == len(arrays.values):
                raise ValueError("a batch needs as many series indexes, timestamps and values")
            if len(index) and (index.min() < 0 or index.max() >= len(batch.series)):
                raise IndexError("a point names a series the batch does not hold")
            ids = list(map(_ID, batch.series))
            # A batch checked as arrays names each series once (assemble); others are
            # checked here.
            if not series_ids and (batch.arrays is not None or len(set(ids)) == len(ids)):
                # The first batch's series (each once, as ingest builds them) are the slots.
                series_ids = ids
                slots.append(index)
            else:
                if slot_of is None:
                    slot_of = {sid: n for n, sid in enumerate(series_ids)}
                mapping = np.fromiter(
                    (slot_of.setdefault(sid, len(slot_of)) for sid in ids),
                    dtype=np.int64,
                    count=len(ids),
                )
                series_ids = list(slot_of)
                slots.append(mapping[index])
            stamps.append(arrays.timestamps_us)
            values.append(arrays.values)
        return cls(
            series_ids, np.concatenate(slots), np.concatenate(stamps), np.concatenate(values)
        )

    def __len__(self) -> int:
        return len(self.ts)

    def table(self, keep: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """The three columns of `points` (all points, or those of `keep`)."""
        ids = np.asarray(self.series_ids, dtype=np.int64)
        slot, ts, value = self.slot, self.ts, self.value
        if keep is not None:
            slot, ts, value = slot[keep], ts[keep], value[keep]
        return {"series_id": ids[slot], "ts": ts.view("datetime64[us]"), "value": value}


@dataclass(slots=True)
class Plan:
    """What to write for a group: the points to insert, and the stored ones they replace."""

    insert: dict[str, np.ndarray]
    replaced: dict[str, np.ndarray] | None  # series_id, ts of stored points to delete first
    # Each series' new bound, applied once the group has committed: (series ids, bounds).
    latest: tuple[list[int], list[int]]
    forward: bool = False  # every new bound is above the old one (a plain append)


class LatestStamps:
    """For every series written or read since open, an upper bound of its stored timestamps.

    A bound may be too high (a replaced point, a deleted range), never too low: a point
    above its series' bound cannot be stored yet. A series this process has not seen
    since the file was opened is looked up once (the newest stored timestamp at or after
    the group's earliest one: DuckDB's per-row-group min/max of `ts` skips the rest).
    """

    def __init__(self) -> None:
        self._latest: dict[int, int] = {}

    def plan(self, cur: Cursor, columns: Columns, new_series: set[int]) -> Plan:
        """`new_series` are the group's series the file does not hold (no point stored)."""
        if not len(columns):
            return Plan(columns.table(), None, ([], []))
        bounds = self._bounds(cur, columns, new_series)
        if len(columns) == len(columns.series_ids) and _one_each(columns.slot):
            # A point per series (what Prometheus sends): no sort, nothing out of order.
            if bool(np.all(columns.ts > bounds[columns.slot])):
                by_slot = np.empty(len(columns), np.int64)
                by_slot[columns.slot] = columns.ts
                latest = (columns.series_ids, by_slot.tolist())
                return Plan(columns.table(), None, latest, forward=True)
            return self._careful(columns, bounds)
        order = np.argsort(columns.slot, kind="stable")  # by series, arrival order within
        slot, ts = columns.slot[order], columns.ts[order]
        same = slot[1:] == slot[:-1]
        forward = bool(np.all(ts[1:][same] > ts[:-1][same]))
        above = bool(np.all(columns.ts > bounds[columns.slot]))
        if forward and above:  # the usual case: a plain append
            ends = np.append(np.flatnonzero(~same), len(slot) - 1)
            latest = (columns.series_ids, ts[ends].tolist())
            return Plan(columns.table(), None, latest, forward=True)
        return self._careful(columns, bounds)

    def commit(self, plan: Plan) -> None:
        """Remember the bounds of a group once its transaction has committed."""
        ids, stamps = plan.latest
        if plan.forward:
            self._latest.update(zip(ids, stamps, strict=True))
            return
        for sid, stamp in zip(ids, stamps, strict=True):
            if stamp > self._latest.get(sid, _NONE):
                self._latest[sid] = stamp

    def _bounds(self, cur: Cursor, columns: Columns, new_series: set[int]) -> np.ndarray:
        """Each slot's bound; series not seen since open are looked up in the file."""
        latest, ids = self._latest, columns.series_ids
        # A stored bound is never _NONE, so _NONE here means "not seen since open".
        bounds = np.fromiter(map(latest.get, ids, repeat(_NONE)), dtype=np.int64, count=len(ids))
        unseen = [
            (i, ids[i])
            for i in np.flatnonzero(bounds == _NONE).tolist()
            if ids[i] not in new_series
        ]
        if unseen:
            since = int(columns.ts.min())
            cur.register("hydrate", {"sid": np.asarray([sid for _, sid in unseen], np.int64)})
            try:
                rows = dict(cur.execute(_STORED_MAX, {"since": since}).fetchall())
            finally:
                cur.unregister("hydrate")
            for i, sid in unseen:
                # Nothing stored at or after `since`: every stored point is below it.
                found = rows.get(sid)
                bounds[i] = since - 1 if found is None else int(found)
                latest[sid] = int(bounds[i])
        return bounds

    def _careful(self, columns: Columns, bounds: np.ndarray) -> Plan:
        """Duplicates keep their last arrival; stored points at the same key are replaced."""
        arrival = np.arange(len(columns))
        order = np.lexsort((arrival, columns.ts, columns.slot))
        slot, ts = columns.slot[order], columns.ts[order]
        last = np.ones(len(order), dtype=bool)  # the last of each (series, timestamp) run
        last[:-1] = (slot[1:] != slot[:-1]) | (ts[1:] != ts[:-1])
        keep = np.sort(order[last])  # arrival order, for the row groups' min/max of ts
        kept_slot, kept_ts = columns.slot[keep], columns.ts[keep]
        old = kept_ts <= bounds[kept_slot]  # may already be stored
        replaced = None
        if np.any(old):
            ids = np.asarray(columns.series_ids, dtype=np.int64)
            replaced = {
                "series_id": ids[kept_slot[old]],
                "ts": kept_ts[old].view("datetime64[us]"),
            }
        # Each series' newest kept stamp, per slot (slots name distinct series).
        newest = np.full(len(columns.series_ids), _NONE, dtype=np.int64)
        np.maximum.at(newest, kept_slot, kept_ts)
        present = np.flatnonzero(newest != _NONE)
        ids = np.asarray(columns.series_ids, dtype=np.int64)[present]
        return Plan(columns.table(keep), replaced, (ids.tolist(), newest[present].tolist()))


def apply(cur: Cursor, plan: Plan) -> None:
    """Delete the stored points the group replaces, then insert it (inside a transaction)."""
    if plan.replaced is not None:
        stamps = plan.replaced["ts"].view(np.int64)
        cur.register("replaced", plan.replaced)
        try:
            for delete in _DELETE:
                cur.execute(delete, {"lo": int(stamps.min()), "hi": int(stamps.max())})
        finally:
            cur.unregister("replaced")
    columns = plan.insert
    stamps = columns["ts"].view(np.int64)
    # As datetime64, int64's minimum is NaT: NULL, which the table refuses; as an integer
    # make_timestamp would store it as a date 290,000 years BC.
    if len(stamps) >= _REGISTER_FROM or (len(stamps) and stamps.min() == _NONE):
        cur.register("batch", columns)  # replaced by the next group's
        cur.execute("INSERT INTO points_hot SELECT series_id, ts, value FROM batch")
    elif len(stamps):
        ids, values = columns["series_id"].tolist(), columns["value"].tolist()
        cur.execute(_INSERT_LISTS, [ids, stamps.tolist(), values])


def _one_each(slot: np.ndarray) -> bool:
    """Whether every slot has exactly one point (slots number the group's series)."""
    return bool((np.bincount(slot) == 1).all())
