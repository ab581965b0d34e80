"""A seasonal profile: the usual value by time of day or of week, learned as points arrive.

The profile holds one offset per slot (48 half-hours of a day, or 168 hours of a week).
A point is predicted as its slot's offset plus `shift`, a level that moves fast so that a
day running 10% high is followed at once while each slot learns slowly, one visit a cycle.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DAILY_SLOTS", "DAY_US", "WEEKLY_SLOTS", "WEEK_US", "Profile"]

DAILY_SLOTS = 48
WEEKLY_SLOTS = 168
DAY_US = 86_400_000_000
WEEK_US = 7 * DAY_US
# 1970-01-01 was a Thursday: shifting by 3 days makes slot 0 of a week Monday 00:00 UTC.
WEEK_ORIGIN_US = 3 * DAY_US

NAN = float("nan")


class Profile:
    """Offsets per slot, the level they are relative to, and the model's error statistics."""

    __slots__ = (
        "counts",
        "cycle_us",
        "error",
        "offsets",
        "run",
        "run_sum",
        "scale",
        "shift",
        "slot_us",
    )

    def __init__(self, slots: int, cycle_us: int) -> None:
        self.cycle_us = cycle_us
        self.slot_us = cycle_us // slots
        self.offsets = [NAN] * slots  # NaN: this slot has never been seen
        self.counts = [0] * slots  # points each slot has learned from (capped)
        self.shift = 0.0
        self.scale = 0.0  # EWMA of the absolute clipped residual
        self.error = 0.0  # EWMA of the absolute one-step error, to compare models
        self.run = 0  # signed count of consecutive residuals beyond the clip (detector)
        self.run_sum = 0.0

    def slot(self, timestamp_us: int) -> int:
        return ((timestamp_us + WEEK_ORIGIN_US) % self.cycle_us) // self.slot_us

    def learn(self, slot: int, value: float, residual: float, most: int) -> None:
        """A running mean of the slot's first `most` points, then an EWMA of that memory."""
        old = self.offsets[slot]
        if old != old:
            self.offsets[slot] = value - self.shift
            self.counts[slot] = 1
            return
        count = self.counts[slot]
        if count < most:
            count += 1
            self.counts[slot] = count
        self.offsets[slot] = old + residual / count

    def to_state(self) -> dict[str, Any]:
        return {
            "offsets": [None if o != o else o for o in self.offsets],
            "counts": list(self.counts),
            "shift": self.shift,
            "scale": self.scale,
            "error": self.error,
            "run": self.run,
            "run_sum": self.run_sum,
        }

    @classmethod
    def from_state(cls, state: dict[str, Any], cycle_us: int) -> Profile:
        offsets = state["offsets"]
        profile = cls(len(offsets), cycle_us)
        profile.offsets = [NAN if o is None else float(o) for o in offsets]
        profile.counts = [int(c) for c in state["counts"]]
        profile.shift = float(state["shift"])
        profile.scale = float(state["scale"])
        profile.error = float(state["error"])
        profile.run = int(state["run"])
        profile.run_sum = float(state["run_sum"])
        return profile
