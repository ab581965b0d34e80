"""The fast path of LAST windows, a batch at a time in numpy.

With 10,000 threshold rules (1,000 cohorts of LAST windows), `observe_batch` spent ~5 µs
per point in the server against ~1.4 µs in a process of its own: each point touched ~25
objects of its cohort, scattered over a heap the request path churns between batches
(docs/performance.md, decision 0040). For a LAST window, a point that arrives in order,
stays inside the window and whose value lies in every member's quiet range changes
three things only: its group's buffer, the cohort's clock, and the value and point time
noted for the group. The lane keeps those per slot (a cohort's group) in arrays and
decides a whole batch with a few numpy operations.

What the lane buffers of such a run of points is its newest one: for LAST, a point
before it can never be the aggregate again, since a cohort's clock never goes back (the
aggregate is the newest point at or before the evaluation time). Everything a user sees
(aggregates, transitions, states, late-point horizons) is what `observe_batch` gives;
the unit tests replay random streams through both.

A cohort is attached while the lane holds state for it: its clock, and per attached
slot the quiet range, the newest buffered time and the late-point horizon, all read from
the cohort when attached. Every Cohort method that reads or changes the cohort first
takes that state back (`flush`, which also detaches), so nothing the lane read can go
stale while it is attached.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from domain.alerting.model import InstanceKey, RuleAggregation
from domain.columns import grown

if TYPE_CHECKING:
    from domain.alerting.cohort import Cohort

__all__ = ["MAX_SLOTS", "REST_BATCHES", "LastLane", "takes"]

NONE = np.iinfo(np.int64).min  # no clock, no horizon
MAX_SLOTS = 1_000_000  # past it the lane starts over (as the routes memo does)
# A cohort the lane refused sits out this many batches: one group that is never quiet
# (an `==` rule, a flapping history filling up) must not cost an attach every batch.
REST_BATCHES = 16
_SPAN_BITS = 41  # a batch's times must span less than 2**40 µs (12.7 days) per cohort


def takes(cohort: Cohort) -> bool:
    """Whether the lane can evaluate `cohort`'s quiet points: LAST windows."""
    return cohort.windows.aggregation is RuleAggregation.LAST


class LastLane:
    """Quiet in-order points of LAST cohorts, taken a batch at a time."""

    def __init__(self) -> None:
        self._slot_of: dict[tuple[Cohort, InstanceKey], int] = {}
        self._slot_cohort: list[Cohort | None] = []
        self._slot_group: list[InstanceKey] = []
        self._free: list[int] = []
        self._cohort_id: dict[Cohort, int] = {}
        self._cohort_slots: dict[Cohort, list[int]] = {}  # every slot, attached or not
        self._attached: dict[Cohort, list[int]] = {}  # the attached slots
        self._free_cohorts: list[int] = []
        self.points_taken = 0
        self.rest_batches = REST_BATCHES
        self._batches = 0
        # per slot
        self._live = np.zeros(0, dtype=bool)  # attached, with a quiet range and a buffer
        self._on = np.zeros(0, dtype=bool)  # attached
        self._pending = np.zeros(0, dtype=bool)
        self._lo = np.zeros(0)
        self._hi = np.zeros(0)
        self._until = np.zeros(0)
        self._newest = np.zeros(0, dtype=np.int64)
        self._horizon = np.zeros(0, dtype=np.int64)
        self._point_ts = np.zeros(0, dtype=np.int64)
        self._point_value = np.zeros(0)
        self._cohort = np.zeros(0, dtype=np.intp)
        # per cohort
        self._clock = np.zeros(0, dtype=np.int64)
        self._window = np.zeros(0, dtype=np.int64)
        self._rest_until = np.zeros(0, dtype=np.int64)  # the batch it may try again

    def __len__(self) -> int:
        return len(self._slot_of)

    # -- slots --------------------------------------------------------------------------------

    def slot(self, cohort: Cohort, group: InstanceKey) -> int:
        """The slot of `cohort`'s `group` (made on first use)."""
        key = (cohort, group)
        slot = self._slot_of.get(key)
        if slot is not None:
            return slot
        if self._free:
            slot = self._free.pop()
            self._slot_cohort[slot] = cohort
            self._slot_group[slot] = group
        else:
            slot = len(self._slot_cohort)
            self._slot_cohort.append(cohort)
            self._slot_group.append(group)
            self._grow_slots(slot + 1)
        self._slot_of[key] = slot
        self._cohort[slot] = self._cohort_index(cohort)
        self._on[slot] = self._live[slot] = self._pending[slot] = False
        self._cohort_slots[cohort].append(slot)
        return slot

    def cohort_of(self, slot: int) -> Cohort:
        cohort = self._slot_cohort[slot]
        assert cohort is not None, slot
        return cohort

    def forget(self, cohort: Cohort) -> None:
        """`cohort` left the index: take back what the lane holds, free its slots."""
        self.flush(cohort)
        for slot in self._cohort_slots.pop(cohort, []):
            del self._slot_of[(cohort, self._slot_group[slot])]
            self._slot_cohort[slot] = None
            self._slot_group[slot] = ()
            self._free.append(slot)
        index = self._cohort_id.pop(cohort, None)
        if index is not None:
            self._free_cohorts.append(index)

    def clear(self) -> None:
        """Take everything back and forget every slot."""
        for cohort in list(self._cohort_slots):
            self.forget(cohort)

    # -- a batch ------------------------------------------------------------------------------

    def take(self, slots: np.ndarray, ts: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Point `i` (time `ts[i]`, `values[i]`) for slot `slots[i]`, in batch order: which
        points the lane took. A cohort is taken whole or not at all: the points of a cohort
        with one point the lane cannot take are all left to `observe_batch`, in order."""
        self._batches += 1
        cohorts = self._cohort[slots]
        awake = self._rest_until[cohorts] <= self._batches
        need = ~self._on[slots] & awake
        if need.any():
            self._attach(np.unique(slots[need]).tolist())
        now = _running_max(cohorts, np.maximum(ts, self._clock[cohorts]))
        if now is None:
            return np.zeros(len(slots), dtype=bool)
        cutoff = now - self._window[cohorts]
        ok: np.ndarray = (
            awake
            & self._live[slots]
            & (ts > self._horizon[slots])
            & (ts > cutoff)  # still in the window at its own evaluation
            & (values > self._lo[slots])
            & (values < self._hi[slots])
            & (now < self._until[slots])
        )
        by_slot = np.argsort(slots, kind="stable")
        sorted_slots = slots[by_slot]
        sorted_ts = ts[by_slot]
        same = sorted_slots[1:] == sorted_slots[:-1]
        before = self._newest[sorted_slots]
        before[1:] = np.where(same, sorted_ts[:-1], before[1:])
        in_order = np.empty(len(slots), dtype=bool)
        in_order[by_slot] = sorted_ts >= before
        ok &= in_order
        if not ok.all():
            refused = np.zeros(len(self._clock), dtype=bool)
            refused[cohorts[~ok]] = True
            ok = ~refused[cohorts]
            self._rest_until[refused & (self._rest_until <= self._batches)] = (
                self._batches + self.rest_batches
            )
            if not ok.any():
                return ok
        last = np.ones(len(slots), dtype=bool)
        last[:-1] = ~same
        picked = by_slot[last]  # each slot's last point
        picked = picked[ok[picked]]
        at = slots[picked]
        self._point_ts[at] = self._newest[at] = ts[picked]
        self._point_value[at] = values[picked]
        self._horizon[at] = np.maximum(self._horizon[at], cutoff[picked])
        self._pending[at] = True
        moved = cohorts[ok]
        self.points_taken += len(moved)
        np.maximum.at(self._clock, moved, now[ok])
        return ok

    def flush(self, cohort: Cohort) -> None:
        """Write what the lane holds for `cohort` into it, and detach it."""
        slots = self._attached.pop(cohort, None)
        if cohort.lane is self:
            cohort.lane = None
        if slots is None:
            return
        clock = int(self._clock[self._cohort_id[cohort]])
        if clock != NONE and (cohort.clock_us is None or clock > cohort.clock_us):
            cohort.clock_us = clock
        groups = cohort.windows._groups
        fresh = cohort._fresh
        for slot in slots:
            self._on[slot] = self._live[slot] = False
            if not self._pending[slot]:
                continue
            self._pending[slot] = False
            group = self._slot_group[slot]
            ts_us, value = int(self._point_ts[slot]), float(self._point_value[slot])
            buffer = groups[group]
            buffer.ts.append(ts_us)
            buffer.values.append(value)
            horizon = int(self._horizon[slot])
            if buffer.horizon is None or horizon > buffer.horizon:
                buffer.horizon = horizon
                if buffer.ts[buffer.head] <= horizon:
                    buffer.drop_through(horizon)
            noted = fresh.get(group)
            latest = noted[1] if noted is not None else None
            fresh[group] = (value, ts_us if latest is None or ts_us > latest else latest)

    # -- inside -------------------------------------------------------------------------------

    def _attach(self, slots: Sequence[int]) -> None:
        """Read what the batch's unattached slots need from their cohorts."""
        for slot in slots:
            cohort = self._slot_cohort[slot]
            assert cohort is not None, slot
            attached = self._attached.get(cohort)
            if attached is None:  # (then cohort.lane is None: flush clears both)
                index = self._cohort_id[cohort]
                clock = cohort.clock_us
                self._clock[index] = NONE if clock is None else clock
                self._window[index] = cohort.windows.window_us
                attached = self._attached[cohort] = []
                cohort.lane = self
            attached.append(slot)
            self._on[slot] = True
            self._pending[slot] = False
            group = self._slot_group[slot]
            windows = cohort.windows
            buffer = windows._groups.get(group)
            quiet = cohort.quiet_unsettled(group)
            if (
                quiet is None
                or buffer is None
                or not buffer.ts
                or len(buffer.ts) - buffer.head >= windows.max_points
            ):
                self._live[slot] = False
                continue
            self._live[slot] = True
            self._lo[slot], self._hi[slot], self._until[slot] = quiet.lo, quiet.hi, quiet.until_us
            self._newest[slot] = buffer.ts[-1]
            self._horizon[slot] = NONE if buffer.horizon is None else buffer.horizon

    def _cohort_index(self, cohort: Cohort) -> int:
        index = self._cohort_id.get(cohort)
        if index is None:
            if self._free_cohorts:
                index = self._free_cohorts.pop()
            else:
                index = len(self._cohort_id)
                if index >= len(self._clock):
                    size = max(64, 2 * len(self._clock))
                    self._clock = grown(self._clock, size, NONE)
                    self._window = grown(self._window, size, 0)
                    self._rest_until = grown(self._rest_until, size, 0)
            self._cohort_id[cohort] = index
            self._cohort_slots[cohort] = []
            self._rest_until[index] = 0
        return index

    def _grow_slots(self, need: int) -> None:
        if need <= len(self._on):
            return
        size = max(256, 2 * len(self._on))
        for name in ("_live", "_on", "_pending"):
            setattr(self, name, grown(getattr(self, name), size, False))
        for name in ("_lo", "_hi", "_until", "_point_value"):
            setattr(self, name, grown(getattr(self, name), size, 0.0))
        for name in ("_newest", "_horizon", "_point_ts"):
            setattr(self, name, grown(getattr(self, name), size, NONE))
        self._cohort = grown(self._cohort, size, 0)


def _running_max(groups: np.ndarray, values: np.ndarray) -> np.ndarray | None:
    """The running maximum of `values` within each group, in batch order (a cohort's
    evaluation time at each of its points); None if a batch spans too long to compute it
    with one accumulate."""
    order = np.argsort(groups, kind="stable")
    ordered = groups[order]
    starts = np.ones(len(order), dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    if starts.all():  # one point per cohort: nothing to carry
        return values
    base = int(values.min())
    rel = values[order] - base
    if int(rel.max()) >= 1 << (_SPAN_BITS - 1):
        return None
    shift = (np.cumsum(starts) - 1).astype(np.int64) << _SPAN_BITS
    out = np.empty_like(values)
    out[order] = np.maximum.accumulate(rel + shift) - shift + base
    return out
