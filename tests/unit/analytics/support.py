"""Seeded series for the analytics tests."""

from __future__ import annotations

import time

import numpy as np

from domain.analytics.series import DAY_US, MINUTE_US, Grid

__all__ = ["FIVE_MIN", "T0", "computing", "daily", "grid"]

T0 = 1_700_006_400_000_000  # 2023-11-15 00:00 UTC: a day boundary
FIVE_MIN = 5 * MINUTE_US


def grid(values: np.ndarray, step_us: int = FIVE_MIN, **tags: str) -> Grid:
    return Grid(T0, step_us, np.asarray(values, dtype=np.float64), tags)


def daily(
    days: int, *, seed: int, amplitude: float = 3.0, noise: float = 1.0, missing: float = 0.0
) -> np.ndarray:
    """A 5-minute series with a daily sine peaking at 06:00 UTC, white noise, gaps."""
    rng = np.random.default_rng(seed)
    n = days * DAY_US // FIVE_MIN
    hours = (np.arange(n) * FIVE_MIN % DAY_US) / 3_600_000_000
    values = 50 + amplitude * np.sin(2 * np.pi * (hours - 0) / 24) + rng.normal(0, noise, n)
    if missing:
        values[rng.choice(n, int(missing * n), replace=False)] = np.nan
    return values


def computing(cpu_seconds: float) -> list[float]:
    """A worker task that computes for `cpu_seconds` of its own CPU time; how long that
    took on the clock (longer when its worker was stopped meanwhile)."""
    started, wall = time.thread_time(), time.monotonic()
    while time.thread_time() - started < cpu_seconds:
        pass
    return [time.monotonic() - wall]
