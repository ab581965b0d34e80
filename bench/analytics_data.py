"""Seeded synthetic series with known answers for the analytics bench (and its tests).

Seasonality: periods of 1 h, 1 d and 1 w at several steps, five shapes (sine, two
harmonics, business-hours square wave, nightly spike, sawtooth), signal-to-noise 1 to 10
(standard deviation of the pattern over that of the noise), white or AR(1) noise, a random
trend, 10% of buckets missing; and series with no period (white noise, AR(1), random walk,
trend, a level shift, random bursts), where the right answer is "none".
Change points: piecewise series with level shifts and variance shifts, segments of 60 to
600 buckets, white noise: the main set with level shifts of 2 to 5 noise deviations and
variance factors of 3 to 6, the hard set with 1 to 2 deviations and factors of 2 to 3
(reported apart: a shift of one deviation cannot be placed within 2 buckets reliably).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from domain.analytics.series import DAY_US, HOUR_US, MINUTE_US, WEEK_US, Grid

__all__ = ["ChangeCase", "SeasonCase", "change_point_set", "seasonality_set"]

STEPS_US = {
    "hour": (MINUTE_US, 2 * MINUTE_US, 5 * MINUTE_US),
    "day": (5 * MINUTE_US, 10 * MINUTE_US, 15 * MINUTE_US),
    "week": (30 * MINUTE_US, HOUR_US),
}
PERIOD_US = {"hour": HOUR_US, "day": DAY_US, "week": WEEK_US}
SHAPES = ("sine", "harmonics", "square", "spike", "sawtooth")
NULLS = ("white", "ar1", "random_walk", "trend", "level_shift", "bursts")
T0_US = 1_700_000_000_000_000  # 2023-11-14


@dataclass(frozen=True, slots=True)
class SeasonCase:
    name: str
    grid: Grid
    truth: str  # "hour", "day", "week" or "none"
    snr: float


@dataclass(frozen=True, slots=True)
class ChangeCase:
    name: str
    grid: Grid
    changes: tuple[int, ...]  # index of the first bucket of each new segment


def _noise(rng: np.random.Generator, n: int, phi: float) -> np.ndarray:
    e = rng.normal(size=n)
    if phi:
        out = np.empty(n)
        out[0] = e[0]
        scale = math.sqrt(1 - phi * phi)
        for i in range(1, n):
            out[i] = phi * out[i - 1] + scale * e[i]
        return out
    return e


def _shape(kind: str, phase: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    if kind == "sine":
        return np.sin(2 * np.pi * phase + rng.uniform(0, 2 * np.pi))
    if kind == "harmonics":
        shift = rng.uniform(0, 2 * np.pi)
        return np.sin(2 * np.pi * phase + shift) + 0.5 * np.sin(4 * np.pi * phase + 2 * shift)
    if kind == "square":
        start = rng.uniform(0.2, 0.4)
        return ((phase >= start) & (phase < start + 0.4)).astype(float)
    if kind == "spike":
        centre = rng.uniform(0, 1)
        dist = np.minimum(np.abs(phase - centre), 1 - np.abs(phase - centre))
        return np.asarray(np.exp(-0.5 * (dist / 0.03) ** 2))
    return (phase + rng.uniform(0, 1)) % 1.0  # sawtooth


def _missing(rng: np.random.Generator, values: np.ndarray, share: float = 0.10) -> np.ndarray:
    out = values.copy()
    out[rng.choice(len(out), int(share * len(out)), replace=False)] = np.nan
    return out


def seasonality_set(seed: int = 14, per_period: int = 40, nulls: int = 60) -> list[SeasonCase]:
    rng = np.random.default_rng(seed)
    cases: list[SeasonCase] = []
    for truth, steps in STEPS_US.items():
        for k in range(per_period):
            step = int(steps[k % len(steps)])
            period = PERIOD_US[truth] // step
            n = min(10_000, max(600, int(period * rng.uniform(3.5, 8.0))))
            start = T0_US + int(rng.integers(0, 500)) * step
            t = start + np.arange(n) * step
            phase = (t % PERIOD_US[truth]) / PERIOD_US[truth]
            shape = SHAPES[k % len(SHAPES)]
            pattern = _shape(shape, phase, rng)
            snr = float(np.exp(rng.uniform(0, math.log(10))))
            pattern = pattern / pattern.std() * snr
            phi = float(rng.choice([0.0, 0.0, 0.5]))
            drift = rng.normal(0, 2) * np.arange(n) / n
            values = 50 + pattern + _noise(rng, n, phi) + drift
            grid = Grid(start, step, _missing(rng, values), {"case": f"{truth}-{k}"})
            cases.append(SeasonCase(f"{truth}-{shape}-{k}", grid, truth, snr))
    for k in range(nulls):
        kind = NULLS[k % len(NULLS)]
        step = int(rng.choice([MINUTE_US, 5 * MINUTE_US, 15 * MINUTE_US, HOUR_US]))
        n = int(rng.integers(1_000, 10_001))
        if kind == "white":
            values = rng.normal(size=n)
        elif kind == "ar1":
            values = _noise(rng, n, float(rng.uniform(0.5, 0.95)))
        elif kind == "random_walk":
            values = np.cumsum(rng.normal(size=n))
        elif kind == "trend":
            values = rng.normal(0, 5) * np.arange(n) / n + rng.normal(size=n)
        elif kind == "level_shift":
            values = rng.normal(size=n) + np.where(np.arange(n) > rng.integers(n // 5, n), 3.0, 0)
        else:
            values = rng.normal(size=n) + 8.0 * (rng.random(n) < 0.01) * rng.exponential(size=n)
        start = T0_US + int(rng.integers(0, 500)) * step
        grid = Grid(start, step, _missing(rng, 100 + values), {"case": f"none-{k}"})
        cases.append(SeasonCase(f"none-{kind}-{k}", grid, "none", 0.0))
    return cases


def change_point_set(seed: int = 41, count: int = 60, *, hard: bool = False) -> list[ChangeCase]:
    rng = np.random.default_rng(seed + hard)
    shift = (1.0, 2.0) if hard else (2.0, 5.0)
    factors = (2.0, 3.0) if hard else (3.0, 6.0)
    cases: list[ChangeCase] = []
    for k in range(count):
        lengths = rng.integers(60, 601, size=int(rng.integers(2, 7)))
        level, scale = 0.0, 1.0
        parts: list[np.ndarray] = []
        changes: list[int] = []
        for i, length in enumerate(lengths):
            if i:
                changes.append(int(sum(lengths[:i])))
                if rng.random() < 0.6:  # a level shift
                    level += float(rng.choice([-1, 1]) * rng.uniform(*shift)) * scale
                else:  # a variance shift
                    factor = rng.uniform(*factors)
                    scale = scale * factor if scale <= 1.0 or rng.random() < 0.3 else scale / factor
            parts.append(level + scale * rng.normal(size=int(length)))
        values = 20 + np.concatenate(parts)
        name = f"cp-{'hard-' if hard else ''}{k}"
        cases.append(
            ChangeCase(name, Grid(T0_US, MINUTE_US, values, {"case": name}), tuple(changes))
        )
    return cases
