"""The mergeable percentile sketch every rollup bucket carries (DDSketch-style log bins).

Keys. A value v falls in the bin whose key is

    key(v) = 0                                           if v == 0
    key(v) = +(OFFSET + ceil(ln(v)  / LN_GAMMA))         if v > 0
    key(v) = -(OFFSET + ceil(ln(-v) / LN_GAMMA))         if v < 0

with ALPHA = 0.005, GAMMA = (1 + ALPHA) / (1 - ALPHA), LN_GAMMA = ln(GAMMA) given below as a
float64 literal, and OFFSET = 100_000 (ln of the smallest positive float64 is -744.4, so
OFFSET + ceil(...) stays in [25_000, 171_000] for every finite value and never reaches 0).
Key 0 is the zero count, positive keys are the positive bins, negative keys the negative
bins, and keys grow with the value: sorting keys sorts the bins by value.

A store evaluates the same formula in its own language, with LN_GAMMA as a DOUBLE literal
(never ln() of a decimal): DuckDB
`CASE WHEN v > 0 THEN 100000 + ceil(ln(v) / LN_GAMMA) WHEN v < 0 THEN -(100000 +
ceil(ln(-v) / LN_GAMMA)) ELSE 0 END`, MongoDB the same with `$cond`, `$ln`, `$divide` and
`$ceil`. Two engines' ln may differ in the last bit, so a value lying exactly on a bin edge
may land one key apart; both neighbouring bins still hold it within the bound below.

Bins of a bucket are two aligned arrays: `keys` (sorted ascending, unique) and `counts`
(positive integers). Merging two sketches adds the counts of equal keys, so sketches of
1-minute buckets merge into the sketch of the hour, or of any chart bucket.

Error bound. A bin (GAMMA^(j-1), GAMMA^j] is represented by 2 GAMMA^j / (GAMMA + 1), which is
within a relative ALPHA (0.5%) of every value in the bin. `quantiles` interpolates linearly
between the order statistics at floor and ceil of q (n - 1), as DuckDB's `quantile_cont`
and numpy's default percentile do, from the representatives of the bins holding them; so
|estimate - exact| <= ALPHA * max(|x_lo|, |x_hi|) where x_lo, x_hi are the two exact order
statistics: within 0.5% of the exact quantile whenever they have the same sign. Given the
bucket's exact min and max, the estimate is clamped into [min, max].
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = [
    "ALPHA",
    "GAMMA",
    "LN_GAMMA",
    "OFFSET",
    "Bins",
    "bins_of",
    "keys_of",
    "merge",
    "quantile",
    "quantiles",
    "values_of",
]

ALPHA = 0.005
GAMMA = (1 + ALPHA) / (1 - ALPHA)
LN_GAMMA = 0.010000083334583179  # math.log(GAMMA), written out so every store uses this double
OFFSET = 100_000

Bins = tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]  # (keys ascending, counts)
_LN_REPRESENTATIVE = math.log(2 / (GAMMA + 1))  # representative = GAMMA^j * 2 / (GAMMA + 1)


def keys_of(values: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """The bin key of every value (finite floats), by the formula of the module docstring."""
    v = np.asarray(values, dtype=np.float64)
    magnitude = np.abs(v)
    with np.errstate(divide="ignore"):
        j = np.ceil(np.log(np.where(magnitude > 0, magnitude, 1.0)) / LN_GAMMA)
    keys = (OFFSET + j).astype(np.int64) * np.sign(v).astype(np.int64)
    return keys


def bins_of(values: npt.ArrayLike) -> Bins:
    """The sketch of these values."""
    keys, counts = np.unique(keys_of(values), return_counts=True)
    return keys.astype(np.int64), counts.astype(np.int64)


def merge(*sketches: Bins) -> Bins:
    """One sketch holding every value of the given ones."""
    if not sketches:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    keys = np.concatenate([k for k, _ in sketches]).astype(np.int64)
    counts = np.concatenate([c for _, c in sketches]).astype(np.int64)
    merged, inverse = np.unique(keys, return_inverse=True)
    summed = np.bincount(inverse, weights=counts, minlength=len(merged))
    return merged.astype(np.int64), summed.astype(np.int64)


def values_of(keys: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The value each key stands for (within ALPHA of every value of its bin)."""
    k = np.asarray(keys, dtype=np.int64)
    j = np.abs(k) - OFFSET
    with np.errstate(over="ignore"):
        magnitude = np.exp(j * LN_GAMMA + _LN_REPRESENTATIVE)
    magnitude = np.minimum(magnitude, np.finfo(np.float64).max)
    return np.where(k == 0, 0.0, np.sign(k) * magnitude)


def quantile(
    keys: npt.ArrayLike,
    counts: npt.ArrayLike,
    q: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float | None:
    """The q-quantile (0 <= q <= 1) of one sketch, None when it is empty."""
    k = np.asarray(keys, dtype=np.int64)
    answer = quantiles(
        np.zeros(len(k), np.int64),
        k,
        np.asarray(counts, dtype=np.int64),
        q,
        cells=1,
        minimum=None if minimum is None else np.array([minimum]),
        maximum=None if maximum is None else np.array([maximum]),
    )
    return None if math.isnan(answer[0]) else float(answer[0])


def quantiles(
    cell: npt.NDArray[np.int64],
    keys: npt.NDArray[np.int64],
    counts: npt.NDArray[np.int64],
    q: float,
    *,
    cells: int,
    minimum: npt.NDArray[np.float64] | None = None,
    maximum: npt.NDArray[np.float64] | None = None,
) -> npt.NDArray[np.float64]:
    """The q-quantile of many sketches at once: bin i belongs to sketch `cell[i]` (0 <=
    cell < cells; a cell may hold one key several times, its counts add up). NaN for a
    cell without values. `minimum`/`maximum` (one per cell) clamp the estimates."""
    answer = np.full(cells, np.nan)
    if len(keys) == 0:
        return answer
    order = np.lexsort((keys, cell))
    cell, keys, counts = cell[order], keys[order], counts[order]
    cumulative = np.cumsum(counts)
    totals = np.bincount(cell, weights=counts, minlength=cells).astype(np.int64)
    present = np.flatnonzero(totals)
    base = np.concatenate(([0], np.cumsum(totals)[:-1]))[present]  # values before the cell
    rank = q * (totals[present] - 1)
    low, high = np.floor(rank).astype(np.int64), np.ceil(rank).astype(np.int64)
    # the bin holding the item of 0-based rank r of a cell is the first whose cumulative
    # count exceeds base + r
    low_value = values_of(keys[np.searchsorted(cumulative, base + low, side="right")])
    high_value = values_of(keys[np.searchsorted(cumulative, base + high, side="right")])
    estimate = low_value + (rank - low) * (high_value - low_value)
    if minimum is not None:
        estimate = np.maximum(estimate, minimum[present])
    if maximum is not None:
        estimate = np.minimum(estimate, maximum[present])
    answer[present] = estimate
    return answer
