"""Seeded synthetic series with labelled windows, scored like NAB's files.

Each set is 14 days of 5-minute points (4,032). A window is centred on each injected
anomaly and is 10% of the file long divided by the number of anomalies, as NAB's are.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from bench.nab.corpus import Series

__all__ = ["synthetic_corpus"]

N = 4032
STEP_US = 300_000_000
START_US = 1_396_310_400_000_000  # 2014-04-01 00:00 UTC, NAB's artificial files' start
PER_DAY = 288

Maker = Callable[[random.Random], tuple[list[float], list[int]]]


def _noise(rng: random.Random) -> tuple[list[float], list[int]]:
    values = [rng.gauss(50.0, 2.0) for _ in range(N)]
    for at in (2200, 3300):
        values[at] += 25.0
    return values, [2200, 3300]


def _level_shift(rng: random.Random) -> tuple[list[float], list[int]]:
    values = [rng.gauss(50.0, 2.0) + (12.0 if i >= 2600 else 0.0) for i in range(N)]
    return values, [2600]


def _daily(rng: random.Random, sigma: float = 2.0) -> list[float]:
    return [
        60.0 + 30.0 * math.sin(2 * math.pi * i / PER_DAY) + rng.gauss(0.0, sigma) for i in range(N)
    ]


def _daily_peak_at_night(rng: random.Random) -> tuple[list[float], list[int]]:
    values = _daily(rng)
    trough = 10 * PER_DAY + 216  # 18:00, the lowest point of the day
    for i in range(trough, trough + 12):
        values[i] += 55.0  # a noon-sized value at the wrong hour
    return values, [trough]


def _daily_variance_burst(rng: random.Random) -> tuple[list[float], list[int]]:
    values = _daily(rng)
    start = 9 * PER_DAY + 100
    for i in range(start, start + 36):
        values[i] += rng.gauss(0.0, 12.0)
    return values, [start]


def _flat_step(rng: random.Random) -> tuple[list[float], list[int]]:
    return [10.0 if i < 3000 else 12.0 for i in range(N)], [3000]


def _poisson(rng: random.Random, rate: float) -> int:
    threshold, count, product = math.exp(-rate), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def _count_burst(rng: random.Random) -> tuple[list[float], list[int]]:
    values = [float(_poisson(rng, 3.0)) for _ in range(N)]
    for i in range(2900, 2912):
        values[i] = float(_poisson(rng, 15.0))
    return values, [2900]


def _quiet_daily(rng: random.Random) -> tuple[list[float], list[int]]:
    return _daily(rng), []


def _quiet_counts(rng: random.Random) -> tuple[list[float], list[int]]:
    return [float(_poisson(rng, 3.0)) for _ in range(N)], []


SETS: dict[str, Maker] = {
    "noise_spikes": _noise,
    "level_shift": _level_shift,
    "daily_peak_at_night": _daily_peak_at_night,
    "daily_variance_burst": _daily_variance_burst,
    "flat_step": _flat_step,
    "count_burst": _count_burst,
    "no_anomaly_daily": _quiet_daily,
    "no_anomaly_counts": _quiet_counts,
}


def synthetic_corpus(seed: int = 20240) -> list[Series]:
    corpus = []
    for index, (name, make) in enumerate(SETS.items()):
        values, anomalies = make(random.Random(seed + index))
        half = int(0.1 * N / max(len(anomalies), 1)) // 2
        windows = tuple((max(0, at - half), min(N - 1, at + half)) for at in anomalies)
        stamps = tuple(START_US + i * STEP_US for i in range(N))
        corpus.append(Series(f"synthetic/{name}", stamps, tuple(values), windows))
    return corpus
