"""Late points mark their tier buckets dirty (`rollup_dirty_spans`, one span per tier and
series), and the writer remembers the spans it has committed, so a late append whose
buckets are already inside its series' spans costs no statement.

Late data comes in streams: a backfill, a collector replaying a buffer, a client whose
clock is behind. Each of its appends used to widen spans that already held its buckets,
at two statements (one per tier) of 2-5 ms on the writer thread per append, which every
other tenant's append waited behind (docs/decisions/0035-known-dirty-spans.md).

The memory is a subset of the table: a span is remembered once the transaction that
widened it has committed (`KnownSpans.commit`), and anything that narrows or deletes
spans (a refresh, a retention cut, a tier expiry) forgets them first. All of it happens on
the store's single writer thread, so it needs no lock.

It also notes which series are still taking late points, so that a refresh can wait until
they stop (for a while at most) instead of recomputing the same buckets again and again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from domain.storage.tiers import ROLLUP_TIERS
from infra.stores.duckdb.overlap import Columns
from infra.stores.duckdb.runner import Cursor

__all__ = ["KnownSpans", "SpanPlan", "late_spans"]

# A span is marked this far past its newest late bucket (at least one bucket, never past the
# tier's watermark): a backfill moving forward in time, the usual late stream, then finds
# its next appends inside the known span and writes a mark once per 15 minutes of its data
# instead of once per append. The buckets marked ahead are recomputed to the same values.
AHEAD_US = 15 * 60 * 1_000_000
# Past this many remembered spans (a tier's worth of series), start again: memory stays
# bounded when rollups are off and nothing ever narrows the spans.
MAX_KNOWN = 1_000_000
# Look spans up in sorted arrays unless the known ones outnumber the append's series by
# this much (sorting them again after a change would then cost more than the dict gets).
_SORT_PAST = 64
_NEVER_LO = np.iinfo(np.int64).max
_NEVER_HI = np.iinfo(np.int64).min

_WIDEN = (
    "INSERT INTO rollup_dirty_spans SELECT $tier, series_id, lo, hi FROM late"
    " ON CONFLICT DO UPDATE SET lo_us = least(lo_us, excluded.lo_us),"
    " hi_us = greatest(hi_us, excluded.hi_us)"
    " RETURNING series_id, lo_us, hi_us"
)


@dataclass
class SpanPlan:
    """What an uncommitted transaction did, by tier: the spans it wrote (series id ->
    (lo, hi)) and every series it had late points of (written or already known)."""

    written: dict[str, dict[int, tuple[int, int]]] = field(default_factory=dict)
    late: dict[str, np.ndarray] = field(default_factory=dict)


class KnownSpans:
    """The committed dirty spans the writer knows of, by tier (a subset of the table)."""

    def __init__(self) -> None:
        self._of: dict[str, dict[int, tuple[int, int]]] = {t.name: {} for t in ROLLUP_TIERS}
        # The same spans as sorted arrays (ids, lo, hi), built when first needed after a
        # change: a lookup per append is then a searchsorted, not a dict get per series.
        self._sorted: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray] | None] = {}
        # Per tier, series with late points since their last refresh, and the monotonic
        # seconds of the first and of the latest of those appends, so that a refresh can
        # wait for them.
        self._busy: dict[str, _Busy] = {t.name: _Busy() for t in ROLLUP_TIERS}

    def uncovered(self, tier: str, ids: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Which of the spans (one per series) are not inside a known one: a bool mask."""
        known = self._of[tier]
        if not known:
            return np.ones(len(ids), dtype=bool)
        if len(known) > _SORT_PAST * len(ids):  # few series against many known spans
            spans = [known.get(sid) for sid in ids.tolist()]
            first = np.array([s[0] if s else _NEVER_LO for s in spans], dtype=np.int64)
            last = np.array([s[1] if s else _NEVER_HI for s in spans], dtype=np.int64)
            return (lo < first) | (hi > last)
        known_ids, known_lo, known_hi = self._sorted_spans(tier)
        at = np.minimum(np.searchsorted(known_ids, ids), len(known_ids) - 1)
        found = known_ids[at] == ids
        first = np.where(found, known_lo[at], _NEVER_LO)
        last = np.where(found, known_hi[at], _NEVER_HI)
        return (lo < first) | (hi > last)

    def _sorted_spans(self, tier: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        built = self._sorted.get(tier)
        if built is None:
            known = self._of[tier]
            ids = np.fromiter(known.keys(), np.int64, len(known))
            bounds = np.array(list(known.values()), dtype=np.int64).reshape(-1, 2)
            order = np.argsort(ids)
            built = self._sorted[tier] = (ids[order], bounds[order, 0], bounds[order, 1])
        return built

    def commit(self, plan: SpanPlan) -> None:
        """Remember what a transaction wrote, once it has committed."""
        for tier, spans in plan.written.items():
            known = self._of[tier]
            if len(known) + len(spans) > MAX_KNOWN:
                known.clear()
            known.update(spans)
            self._sorted[tier] = None
        now = time.monotonic()
        for tier, series in plan.late.items():
            self._busy[tier].note(series, now)

    def forget(self) -> None:
        """Before spans are narrowed or deleted: remember none of them."""
        for known in self._of.values():
            known.clear()
        self._sorted.clear()

    def forget_series(self, tier: str, series: np.ndarray) -> None:
        """A refresh narrowed (or deleted) these series' spans in one tier: remember none
        of theirs there, and keep the rest. A flood of late points to series that wait
        for their refresh would otherwise mark its spans again after every refresh pass
        (10-20 ms of the writer per 500 series, decision 0035's addendum)."""
        known = self._of[tier]
        if not known or not len(series):
            return
        for sid in series.tolist():
            known.pop(sid, None)
        self._sorted[tier] = None

    def still_busy(self, tier: str, quiet_s: float, most_s: float) -> np.ndarray:
        """Series whose refresh should wait: late points came within the last `quiet_s`
        seconds, and the first of them less than `most_s` ago (so no series waits more)."""
        ids, first, latest = self._busy[tier].folded()
        now = time.monotonic()
        return ids[(now - latest < quiet_s) & (now - first < most_s)]

    def refreshed(self, tier: str, series: np.ndarray) -> None:
        """A refresh has read these series' points (committed: its snapshot has them)."""
        self._busy[tier].drop(series)

    def __len__(self) -> int:
        return sum(len(known) for known in self._of.values())


class _Busy:
    """Series with late points, each with the time of its first and latest append since
    its refresh. An append only queues its series (a whole array, no loop per series);
    they are folded in, with numpy, when a refresh reads them or too many wait."""

    FOLD_PAST = 1_000_000  # queued ids

    def __init__(self) -> None:
        empty_ids, empty_times = np.empty(0, np.int64), np.empty(0, np.float64)
        self._ids, self._first, self._latest = empty_ids, empty_times, empty_times
        self._queued: list[tuple[np.ndarray, float]] = []
        self._queued_count = 0

    def note(self, series: np.ndarray, now: float) -> None:
        self._queued.append((series, now))
        self._queued_count += len(series)
        if self._queued_count > self.FOLD_PAST:
            self.folded()

    def folded(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(series ids, first, latest), one entry per series."""
        if self._queued:
            ids = np.concatenate([self._ids, *(series for series, _ in self._queued)])
            times = np.concatenate([np.full(len(series), now) for series, now in self._queued])
            first = np.concatenate([self._first, times])
            latest = np.concatenate([self._latest, times])
            self._ids, at = np.unique(ids, return_inverse=True)
            self._first = np.full(len(self._ids), np.inf)
            self._latest = np.full(len(self._ids), -np.inf)
            np.minimum.at(self._first, at, first)
            np.maximum.at(self._latest, at, latest)
            self._queued, self._queued_count = [], 0
        return self._ids, self._first, self._latest

    def drop(self, series: np.ndarray) -> None:
        ids, first, latest = self.folded()
        keep = ~np.isin(ids, series)
        self._ids, self._first, self._latest = ids[keep], first[keep], latest[keep]


def late_spans(
    cur: Cursor, watermarks: dict[str, int], known: KnownSpans, columns: Columns
) -> tuple[SpanPlan, dict[str, int]]:
    """Inside an append's transaction: widen the dirty span of each series with points
    stamped before a tier's watermark to their buckets (and `AHEAD_US` past them), unless
    a known span holds them.
    Returns what was written (for `KnownSpans.commit` once committed) and how many spans
    each tier's statement touched."""
    plan, touched = SpanPlan(), dict[str, int]()
    if not len(columns) or int(columns.ts.min()) >= max(watermarks.values(), default=0):
        return plan, touched
    ids = np.asarray(columns.series_ids, dtype=np.int64)
    every: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # when all points are late
    for tier in ROLLUP_TIERS:
        watermark = watermarks.get(tier.name, 0)
        late = columns.ts < watermark
        if late.all():
            every = every or _per_slot(ids, columns.slot, columns.ts)
            series, first_ts, last_ts = every
        elif late.any():
            series, first_ts, last_ts = _per_slot(ids, columns.slot[late], columns.ts[late])
        else:
            continue
        r = tier.resolution_us
        lo, hi = first_ts // r * r, last_ts // r * r
        plan.late[tier.name] = series
        todo = known.uncovered(tier.name, series, lo, hi)
        if not todo.any():
            continue
        last_rolled = (watermark - 1) // r * r
        ahead = np.maximum(hi, np.minimum(hi + max(AHEAD_US // r, 1) * r, last_rolled))
        cur.register("late", {"series_id": series[todo], "lo": lo[todo], "hi": ahead[todo]})
        try:
            rows = cur.execute(_WIDEN, {"tier": tier.name}).fetchall()
        finally:
            cur.unregister("late")
        plan.written[tier.name] = {int(s): (int(a), int(b)) for s, a, b in rows}
        touched[tier.name] = len(rows)
    return plan, touched


def _per_slot(
    ids: np.ndarray, slot: np.ndarray, ts: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each series' first and last timestamp: (series ids, first, last), one entry per
    series with points. By slot (dense, small) with ufunc.at, not a sort of the ids."""
    first = np.full(len(ids), _NEVER_LO, dtype=np.int64)
    last = np.full(len(ids), _NEVER_HI, dtype=np.int64)
    np.minimum.at(first, slot, ts)
    np.maximum.at(last, slot, ts)
    present = last != _NEVER_HI
    return ids[present], first[present], last[present]
