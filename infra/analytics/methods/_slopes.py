"""Order statistics of all pairwise slopes (Sen's slope and its interval) without O(n^2) memory.

Below ~2M pairs every slope is computed. Above, a randomised exact selection: a sample of
pairs brackets the wanted rank, the slopes below the bracket are counted as inversions
(Kendall's tau, O(n log n)), and the few inside it are enumerated as the pairs whose
order swaps between the bracket's two ends (two points' lines cross inside it). The answer
is the exact order statistic; only the running time is random (seeded).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.stats import kendalltau

__all__ = ["slope_order_statistics"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

BRUTE_FORCE_PAIRS = 2_000_000
SAMPLE_PAIRS = 200_000
MAX_SWEEP = 4_000


def slope_order_statistics(t: FloatArray, x: FloatArray, ranks: list[int]) -> list[float]:
    """Slopes `(x[j] - x[i]) / (t[j] - t[i])` for i < j, sorted: the values at `ranks` (0-based).

    `t` must be strictly increasing and `x` finite.
    """
    n = len(x)
    total = n * (n - 1) // 2
    if total == 0:
        return [math.nan for _ in ranks]
    if total <= BRUTE_FORCE_PAIRS:
        slopes = _all_slopes(t, x)
        slopes.partition(sorted(set(ranks)))
        return [float(slopes[r]) for r in ranks]
    rng = np.random.default_rng(20240229)
    i = rng.integers(0, n, SAMPLE_PAIRS)
    j = rng.integers(0, n, SAMPLE_PAIRS)
    keep = i != j
    lo_idx, hi_idx = np.minimum(i, j)[keep], np.maximum(i, j)[keep]
    sample = np.sort((x[hi_idx] - x[lo_idx]) / (t[hi_idx] - t[lo_idx]))
    found = _select(t, x, sorted(set(ranks)), total, sample)
    if found is None:  # ranks too far apart to share one bracket: one at a time
        found = {}
        for rank in set(ranks):
            one = _select(t, x, [rank], total, sample)
            found[rank] = one[rank] if one is not None else _brute(t, x, rank)
    return [found[rank] for rank in ranks]


def _all_slopes(t: FloatArray, x: FloatArray) -> FloatArray:
    i, j = np.triu_indices(len(x), k=1)
    return np.asarray((x[j] - x[i]) / (t[j] - t[i]), dtype=np.float64)


def _brute(t: FloatArray, x: FloatArray, rank: int) -> float:
    slopes = _all_slopes(t, x)
    slopes.partition(rank)
    return float(slopes[rank])


def _select(
    t: FloatArray, x: FloatArray, ranks: list[int], total: int, sample: FloatArray
) -> dict[int, float] | None:
    """The slopes at sorted `ranks` from one bracket around them all, or None."""
    m = len(sample)
    q_lo, q_hi = ranks[0] / total, ranks[-1] / total
    spread = float(sample[-1] - sample[0]) or 1.0
    if len(ranks) == 1:
        value = sample[min(m - 1, int(q_lo * m))]
        if np.count_nonzero(sample == value) > 1:
            # Ties make atoms (integer data: many slopes exactly 0); test the atom directly.
            tiny = 1e-9 * (spread + abs(value))
            if _count_below(t, x, value - tiny) <= ranks[0] < _count_below(t, x, value + tiny):
                return {ranks[0]: float(value)}
    sigma = math.sqrt(m * max(q_lo * (1.0 - q_lo), q_hi * (1.0 - q_hi)))
    margin = 3.0 * sigma + 20.0
    for _ in range(3):
        lo = sample[max(0, int(q_lo * m - margin))]
        hi = sample[min(m - 1, int(q_hi * m + margin))]
        # Nudge the ends off any slope value, so ordering by x - a*t decides each pair the
        # same way as the exact division would.
        nudge = 1e-7 * (hi - lo) + 1e-9 * (spread + max(abs(lo), abs(hi)))
        lo, hi = lo - nudge, hi + nudge
        below = _count_below(t, x, lo)
        if below <= ranks[0]:
            inside = _slopes_between(t, x, lo, hi)
            if inside is None:
                return None
            if ranks[-1] < below + len(inside):
                inside.partition([r - below for r in ranks])
                return {r: float(inside[r - below]) for r in ranks}
        margin *= 2.0
    return None


def _count_below(t: FloatArray, x: FloatArray, a: float) -> int:
    """Pairs i < j whose slope is below `a`: the inversions of x - a*t in time order."""
    lines = x - a * t
    n = len(x)
    pairs = n * (n - 1) // 2
    _, counts = np.unique(lines, return_counts=True)
    tied = int((counts * (counts - 1) // 2).sum())
    if tied == pairs:
        return 0
    tau = float(kendalltau(t, lines).statistic)
    concordant_minus_discordant = round(tau * math.sqrt(pairs * (pairs - tied)))
    return (pairs - tied - concordant_minus_discordant) // 2


def _slopes_between(t: FloatArray, x: FloatArray, lo: float, hi: float) -> FloatArray | None:
    """Exact slopes of the pairs whose slope lies in (lo, hi), or None if too many to sweep."""
    order_lo = np.argsort(x - lo * t, kind="stable")
    rank_hi = np.empty(len(x), dtype=np.int64)
    rank_hi[np.argsort(x - hi * t, kind="stable")] = np.arange(len(x))
    p = rank_hi[order_lo]
    # An inverted pair sits at most twice the largest displacement apart.
    reach = 2 * int(np.abs(p - np.arange(len(p))).max())
    if reach > MAX_SWEEP:
        return None
    firsts: list[IntArray] = []
    seconds: list[IntArray] = []
    for d in range(1, reach + 1):
        at = np.flatnonzero(p[:-d] > p[d:])
        if at.size:
            firsts.append(order_lo[at])
            seconds.append(order_lo[at + d])
    if not firsts:
        return np.empty(0)
    u, v = np.concatenate(firsts), np.concatenate(seconds)
    i, j = np.minimum(u, v), np.maximum(u, v)
    slopes = (x[j] - x[i]) / (t[j] - t[i])
    return np.asarray(slopes[(slopes > lo) & (slopes < hi)], dtype=np.float64)
