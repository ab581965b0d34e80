"""A clock for tests: the wall clock plus an offset the test moves, handed to the app as the
notification router's and worker's clock to drive group waits, repeats, escalations and mute
timings."""

from __future__ import annotations

import time

__all__ = ["AdjustableClock"]


class AdjustableClock:
    def __init__(self) -> None:
        self.offset_us = 0

    def now_us(self) -> int:
        return time.time_ns() // 1_000 + self.offset_us

    def advance(self, seconds: float) -> None:
        self.offset_us += round(seconds * 1_000_000)

    def set(self, at_us: int) -> None:
        """From now on, read as if the wall clock had shown `at_us` at this moment."""
        self.offset_us = at_us - time.time_ns() // 1_000
