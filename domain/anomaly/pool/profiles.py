"""A seasonal profile's columns (daily or weekly) for every row of a pool, and the
detector's clipping steps for arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

from domain.anomaly.pool.scores import Floats, Ints
from domain.anomaly.profile import WEEK_ORIGIN_US
from domain.anomaly.tuning import CLIP, PROFILE_CYCLES, SHIFT_RATE, SHIFT_RUN, SIGMA_PER_MAD
from domain.columns import grown

__all__ = ["PROFILE_FLOATS", "ProfileColumns", "at_least", "runs"]

PROFILE_FLOATS = ("shift", "scale", "error", "run_sum")


class ProfileColumns:
    """One seasonal profile's columns (daily or weekly) for every row."""

    def __init__(self, slots: int, cycle_us: int, capacity: int) -> None:
        self.cycle_us = cycle_us
        self.slot_us = cycle_us // slots
        self.offsets = np.full((capacity, slots), np.nan)
        self.counts = np.zeros((capacity, slots), dtype=np.int64)
        self.shift = np.zeros(capacity)
        self.scale = np.zeros(capacity)
        self.error = np.zeros(capacity)
        self.run = np.zeros(capacity, dtype=np.int64)
        self.run_sum = np.zeros(capacity)

    def grow(self, capacity: int) -> None:
        self.offsets = grown(self.offsets, capacity, np.nan)
        for name in ("counts", "shift", "scale", "error", "run", "run_sum"):
            setattr(self, name, grown(getattr(self, name), capacity))

    def load(self, row: int, state: dict[str, Any]) -> None:
        self.offsets[row] = [np.nan if o is None else o for o in state["offsets"]]
        self.counts[row] = state["counts"]
        for name in PROFILE_FLOATS:
            getattr(self, name)[row] = state[name]
        self.run[row] = state["run"]

    def states(self, rows: Ints) -> list[dict[str, Any]]:
        """The profile of each row in AnomalyDetector's state format (NaN as None)."""
        offsets = self.offsets[rows]
        unseen = np.isnan(offsets)
        listed = offsets.astype(object)
        listed[unseen] = None
        columns = zip(
            listed.tolist(),
            self.counts[rows].tolist(),
            *(getattr(self, name)[rows].tolist() for name in (*PROFILE_FLOATS, "run")),
            strict=True,
        )
        return [
            {
                "offsets": offsets,
                "counts": counts,
                "shift": shift,
                "scale": scale,
                "error": error,
                "run": run,
                "run_sum": run_sum,
            }
            for offsets, counts, shift, scale, error, run_sum, run in columns
        ]

    def slot(self, ts: Ints) -> Ints:
        return ((ts + WEEK_ORIGIN_US) % self.cycle_us) // self.slot_us

    def learn(
        self,
        rows: Ints,
        slots: Ints,
        values: Floats,
        pred: Floats,
        floor: Floats,
        widen: Floats,
        rates: tuple[Floats, Floats],
        step: Floats,
        age: Ints,
    ) -> None:
        """The detector's learning of one profile from one point per row."""
        error_rate, scale_rate = rates
        r = values - pred
        self.error[rows] += error_rate * (np.abs(r) - self.error[rows])
        own = self.scale[rows]
        limit = CLIP * widen * at_least(SIGMA_PER_MAD * own, floor)
        rc = np.minimum(np.maximum(r, -limit), limit)
        with np.errstate(divide="ignore", invalid="ignore"):
            most = np.where(
                step > 0.0, (PROFILE_CYCLES * self.slot_us / step).astype(np.int64) + 1, 2
            )
        first_cycle = age < self.cycle_us
        shift = self.shift[rows]
        old = self.offsets[rows, slots]
        unseen = np.isnan(old)
        count = self.counts[rows, slots]
        count = np.where(count < most, count + 1, count)
        learned = np.where(first_cycle, r, rc)
        self.offsets[rows, slots] = np.where(unseen, values - shift, old + learned / count)
        self.counts[rows, slots] = np.where(unseen, 1, count)
        later = ~first_cycle
        if later.any():
            at = rows[later]
            moved = shift[later] + SHIFT_RATE * rc[later]
            run, run_sum, jump = runs(self.run[at], self.run_sum[at], r[later], limit[later])
            self.shift[at] = moved + jump
            self.run[at] = run
            self.run_sum[at] = run_sum
        self.scale[rows] = own + scale_rate * (np.abs(rc) - own)


def at_least(value: Floats, floor: Floats) -> Floats:
    """`value if value > floor else floor`, elementwise (np.maximum would differ on NaN)."""
    return np.where(value > floor, value, floor)


def runs(run: Ints, total: Floats, residual: Floats, limit: Floats) -> tuple[Ints, Floats, Floats]:
    """detector._run for many rows: SHIFT_RUN residuals beyond `limit` in a row on one
    side are a new level; the jump that moves the model onto it (else 0)."""
    high = residual > limit
    low = residual < -limit
    run = np.where(
        high,
        np.where(run > 0, run + 1, 1),
        np.where(low, np.where(run < 0, run - 1, -1), 0),
    )
    total = np.where(
        high | low,
        np.where((high & (run > 1)) | (low & (run < -1)), total + residual, residual),
        0.0,
    )
    shifted = np.abs(run) >= SHIFT_RUN
    jump = np.where(shifted, total / np.where(shifted, np.abs(run), 1), 0.0)
    return np.where(shifted, 0, run), np.where(shifted, 0.0, total), jump
