"""CHANGE_POINTS: level and variance shifts found by PELT on a Gaussian cost."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from domain.analytics.results import ChangeKind, ChangePoint, ChangePointsResult
from domain.analytics.series import FloatArray, Grid

__all__ = ["MIN_SEGMENT", "PENALTY_PER_CHANGE", "GaussianCost", "change_points", "pelt"]

IntArray = npt.NDArray[np.int64]

# The default penalty is BIC: each change adds three parameters (a new mean, a new
# variance and the location), so it must lower twice the negative log-likelihood by
# 3 * log(n). It depends on nothing but n, so it is the same for every series.
PENALTY_PER_CHANGE = 3.0
MIN_SEGMENT = 8  # a variance needs a few points; shorter bursts are anomalies, not regimes
COARSE_CANDIDATES = 2_000  # PELT considers about this many positions, then each is refined


class GaussianCost:
    """Twice the Gaussian negative log-likelihood of a segment (mean and variance free),
    up to a constant, in O(1) from cumulative sums (ruptures' CostNormal is O(length)).

    It has ruptures' cost interface (`fit`, `error`, `min_size`, `signal`): the tests run
    ruptures' own Pelt on it and check that `pelt` below finds the same segmentation.
    """

    model = "gaussian_cumsum"
    min_size = 2

    def __init__(self, floor: float) -> None:
        self.floor = floor
        self.signal = np.zeros((0, 1))  # ruptures reads the length from it
        self.sums = np.zeros(1)
        self.squares = np.zeros(1)

    def fit(self, signal: FloatArray) -> GaussianCost:
        x = np.asarray(signal, dtype=np.float64).ravel()
        self.signal = x.reshape(-1, 1)
        self.sums = np.concatenate(([0.0], np.cumsum(x)))
        self.squares = np.concatenate(([0.0], np.cumsum(x * x)))
        return self

    def error(self, start: int, end: int) -> float:
        n = end - start
        mean = (self.sums[end] - self.sums[start]) / n
        var = (self.squares[end] - self.squares[start]) / n - mean * mean
        return float(n * math.log(max(var, self.floor)))

    def errors(self, starts: IntArray, ends: IntArray | int) -> FloatArray:
        n = ends - starts
        n = np.where(n > 0, n, 1)  # starts that cannot begin a segment yet; never chosen
        mean = (self.sums[ends] - self.sums[starts]) / n
        var = (self.squares[ends] - self.squares[starts]) / n - mean * mean
        return np.asarray(n * np.log(np.maximum(var, self.floor)), dtype=np.float64)


def change_points(
    grid: Grid, *, penalty: float | None = None, min_segment: int = MIN_SEGMENT
) -> ChangePointsResult:
    """Shifts in level or variance; `penalty` defaults to BIC (`3 * log(n)`).

    PELT runs on every `jump`-th position (at most COARSE_CANDIDATES of them), then each
    change is moved to its best bucket within a jump either side, so positions are exact
    to the bucket. Missing buckets are skipped; a change's time is that of the first
    bucket of the new segment. PELT is written here with numpy because ruptures' Pelt on
    this same O(1) cost took 1.48 s on 10k points at jump 5 (0.53 s at jump 10); this one
    takes 0.09 s (0.07 s) and returns the same segmentation (a test runs both).
    """
    observed = np.flatnonzero(grid.observed)
    x = np.asarray(grid.values[observed], dtype=np.float64)
    n = len(x)
    pen = PENALTY_PER_CHANGE * math.log(max(n, 2)) if penalty is None else penalty
    method = f"PELT, Gaussian mean-and-variance cost, penalty {pen:.2f}"
    if n < 2 * min_segment:
        return ChangePointsResult(
            tags=grid.tags,
            start_us=grid.start_us,
            end_us=grid.end_us,
            method=method,
            penalty=pen,
            points=(),
        )
    # The floor keeps a truly flat segment from costing minus infinity.
    scale = float(np.median(np.abs(np.diff(x)))) or float(np.std(x)) or 1.0
    cost = GaussianCost(floor=(1e-3 * scale) ** 2)
    jump = max(1, n // COARSE_CANDIDATES)
    coarse = pelt(cost.fit(x), n, pen, min_segment, jump)[:-1]
    bounds = _refine(cost, coarse, n, jump, min_segment)
    points = tuple(_describe(grid, x, observed, bounds, i) for i in range(1, len(bounds) - 1))
    return ChangePointsResult(
        tags=grid.tags,
        start_us=grid.start_us,
        end_us=grid.end_us,
        method=method,
        penalty=pen,
        points=points,
    )


def pelt(cost: GaussianCost, n: int, pen: float, min_size: int, jump: int) -> list[int]:
    """Optimal partition (Killick et al. 2012) over the positions that are multiples of
    `jump`, segments at least `min_size` long; the segment ends, the last being `n`.

    Each step prices every admissible start at once, and drops the starts that can no
    longer begin the best last segment (the pruning that makes PELT linear on average).
    """
    ends = [k for k in range(jump, n, jump) if k >= min_size] + [n]
    best = np.full(n + 1, np.inf)
    best[0] = 0.0
    previous = np.zeros(n + 1, dtype=np.int64)
    starts: IntArray = np.zeros(1, dtype=np.int64)
    for end in ends:
        usable = starts[starts <= end - min_size]
        if not usable.size:
            continue
        totals = best[usable] + cost.errors(usable, end) + pen
        choice = int(np.argmin(totals))
        best[end] = totals[choice]
        previous[end] = usable[choice]
        keep = (starts > end - min_size) | (best[starts] + cost.errors(starts, end) <= best[end])
        starts = np.append(starts[keep], end)
    bounds = [n]
    while bounds[-1] > 0:
        bounds.append(int(previous[bounds[-1]]))
    return bounds[-2::-1]


def _refine(cost: GaussianCost, coarse: list[int], n: int, jump: int, min_size: int) -> list[int]:
    bounds = [0, *coarse, n]
    if jump == 1:
        return bounds
    for i in range(1, len(bounds) - 1):
        lo = max(bounds[i - 1] + min_size, bounds[i] - jump + 1)
        hi = min(bounds[i + 1] - min_size, bounds[i] + jump - 1)
        if hi <= lo:
            continue
        splits = np.arange(lo, hi + 1)
        total = cost.errors(np.full_like(splits, bounds[i - 1]), splits) + cost.errors(
            splits, np.full_like(splits, bounds[i + 1])
        )
        bounds[i] = int(splits[np.argmin(total)])
    return bounds


def _describe(
    grid: Grid, x: FloatArray, observed: np.ndarray, bounds: list[int], i: int
) -> ChangePoint:
    before, after = x[bounds[i - 1] : bounds[i]], x[bounds[i] : bounds[i + 1]]
    mean_b, mean_a = float(before.mean()), float(after.mean())
    std_b, std_a = float(before.std(ddof=1)), float(after.std(ddof=1))
    pooled = math.sqrt(0.5 * (std_b**2 + std_a**2)) or 1e-300
    level = abs(mean_a - mean_b) / pooled  # the shift in noise deviations
    spread = max(std_a, std_b) / max(min(std_a, std_b), 1e-300)
    if level >= 0.5 and spread >= 1.5:
        change = ChangeKind.LEVEL_AND_VARIANCE
    elif level >= 0.5 or (spread < 1.5 and level >= math.log(spread)):
        change = ChangeKind.LEVEL
    else:
        change = ChangeKind.VARIANCE
    index = int(observed[bounds[i]])
    return ChangePoint(
        time_us=grid.time_of(index),
        index=index,
        change=change,
        mean_before=mean_b,
        mean_after=mean_a,
        std_before=std_b,
        std_after=std_a,
    )
