"""STL (Cleveland et al. 1990), non-robust, as statsmodels' `STL(...).fit(outer_iter=0)`
computes it, with numpy doing each loess pass for all evaluation points at once.

Without robustness weights a loess fit is linear in the data, and its weights depend only
on positions: each pass is a weighted sum over a window per evaluation point, computed as
one array operation, and the cycle-subseries of one length are smoothed together. Every
loess is local-linear (statsmodels' default degree, the only one Vigil uses). The numbers
equal statsmodels' to rounding (tests/unit/analytics/test_stl.py); on 10k points it takes
9-15 ms against statsmodels' 22-30 ms, which was the largest part of a FORECAST job's time
(docs/decisions/0036-analytics-stl.md).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from domain.analytics.series import FloatArray

__all__ = ["stl_decompose"]

IntArray = npt.NDArray[np.int64]


def stl_decompose(
    y: FloatArray,
    period: int,
    *,
    seasonal: int,
    trend: int,
    low_pass: int,
    seasonal_jump: int,
    trend_jump: int,
    low_pass_jump: int,
    inner_iter: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(trend, seasonal, residual)."""
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    trend_part = np.zeros(n)
    season = np.zeros(n)
    for _ in range(inner_iter):
        cycles = _cycle_subseries(y - trend_part, period, seasonal, seasonal_jump)
        low = _moving_average(_moving_average(_moving_average(cycles, period), period), 3)
        low = _ess(low[None, :], low_pass, low_pass_jump)[0]
        season = cycles[period : period + n] - low
        trend_part = _ess((y - season)[None, :], trend, trend_jump)[0]
    return trend_part, season, y - season - trend_part


def _moving_average(x: FloatArray, length: int) -> FloatArray:
    sums = np.concatenate(([0.0], np.cumsum(x)))
    return np.asarray((sums[length:] - sums[:-length]) / float(length), dtype=np.float64)


def _cycle_subseries(y: FloatArray, period: int, window: int, jump: int) -> FloatArray:
    """Each phase's values smoothed and extended by one cycle at both ends: length n + 2p."""
    n = len(y)
    out = np.empty(n + 2 * period)
    phases = np.arange(period)
    lengths = (n - (phases + 1)) // period + 1
    for k in np.unique(lengths).tolist():
        these = phases[lengths == k]
        rows = y[these[:, None] + period * np.arange(k)[None, :]]
        smooth = np.empty((len(these), k + 2))
        smooth[:, 1 : k + 1] = _ess(rows, window, jump)
        first = _fit_at(rows, k, window, np.array([0]), np.array([1]), min(window, k))
        smooth[:, 0] = np.where(np.isnan(first[:, 0]), smooth[:, 1], first[:, 0])
        start = max(1, k - window + 1)
        last = _fit_at(rows, k, window, np.array([k + 1]), np.array([start]), k - start + 1)
        smooth[:, k + 1] = np.where(np.isnan(last[:, 0]), smooth[:, k], last[:, 0])
        out[these[:, None] + period * np.arange(k + 2)[None, :]] = smooth
    return out


def _ess(rows: FloatArray, window: int, jump: int) -> FloatArray:
    """statsmodels' `_ess` on every row: loess at every `jump`-th point (and the last), the
    points between interpolated linearly. Positions are 1-based, as in the original."""
    count, n = rows.shape
    if n < 2:
        return rows.copy()
    step = min(jump, n - 1)
    at = np.arange(0, n, step)
    xs = at + 1
    if window >= n:
        left, width = np.ones_like(xs), n
    elif step == 1:
        half = (window + 2) // 2
        left, width = 1 + np.clip(xs - half, 0, n - window), window
    else:
        half = (window + 1) // 2
        left = np.where(xs < half, 1, np.where(xs >= n - half + 1, n - window + 1, xs - half + 1))
        width = window
    out = np.empty((count, n))
    fitted = _fit_at(rows, n, window, xs, left, width)
    out[:, at] = np.where(np.isnan(fitted), rows[:, at], fitted)
    if step == 1:
        return out
    starts = at[at < n - step]
    offsets = np.arange(step)
    delta = (out[:, starts + step] - out[:, starts]) / step
    fill = starts[:, None] + offsets[None, :]
    out[:, fill] = out[:, starts][:, :, None] + delta[:, :, None] * offsets[None, None, :]
    k = int(at[-1]) + 1  # the last point fitted (1-based)
    if k != n:
        end = _fit_at(rows, n, window, np.array([n]), left[-1:], width)[:, 0]
        out[:, n - 1] = np.where(np.isnan(end), rows[:, n - 1], end)
        if k != n - 1:
            between = np.arange(k, n)  # the last point too, as the original recomputes it
            delta_end = (out[:, n - 1] - out[:, k - 1]) / (n - k)
            out[:, between] = out[:, k - 1 : k] + delta_end[:, None] * (between + 1 - k)[None, :]
    return out


def _fit_at(
    rows: FloatArray,
    n: int,
    window: int,
    xs: IntArray,
    left: IntArray,
    width: int,
) -> FloatArray:
    """statsmodels' `_est` at positions `xs` over `width` points from `left` (1-based), for
    every row: NaN where every weight is zero. The weights depend only on where `xs` sits
    in its window (`xs - left`), so they are computed once per such place: one for all the
    interior points, a few near the ends."""
    places, which = np.unique(xs - left, return_inverse=True)
    weights, usable = _weights(places, n, window, width)
    windows = sliding_window_view(rows, width, axis=1)[:, left - 1, :]  # (rows, fits, width)
    values = np.einsum("ew,rew->re", weights[which], windows)
    return np.where(usable[which][None, :], values, np.nan)


def _weights(
    places: IntArray, n: int, window: int, width: int
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Local-linear loess weights over a window of `width` points for a fit at `places`
    (0: its first point; may lie outside it), and whether any weight is non-zero."""
    positions = np.arange(1.0, width + 1.0)[None, :]
    xs = (places + 1).astype(np.float64)
    h = np.maximum(xs - 1.0, width - xs)
    if window > n:
        h += (window - n) // 2
    distance = np.abs(positions - xs[:, None])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = distance / h[:, None]
    cubic = 1.0 - ratio * ratio * ratio  # tricube: (1 - r^3)^3
    weights = cubic * cubic * cubic
    weights[distance <= 0.001 * h[:, None]] = 1.0
    weights[distance > 0.999 * h[:, None]] = 0.0
    total = weights.sum(axis=1)
    usable = total > 0
    weights /= np.where(usable, total, 1.0)[:, None]
    centre = (weights * positions).sum(axis=1)
    offset = positions - centre[:, None]
    spread = (weights * offset * offset).sum(axis=1)
    tilt = (h > 0) & (np.sqrt(spread) > 0.001 * (n - 1.0))
    slope = np.where(tilt, (xs - centre) / np.where(tilt, spread, 1.0), 0.0)
    weights *= slope[:, None] * offset + 1.0
    return weights, usable
