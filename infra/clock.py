"""The wall clock behind the domain's Clock port."""

from __future__ import annotations

import time

__all__ = ["SystemClock"]


class SystemClock:
    def now_us(self) -> int:
        return time.time_ns() // 1_000
