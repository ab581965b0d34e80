"""The two baselines Vigil's detector is measured against, as per-row |z| scores.

Both look only at past rows (no look-ahead), like a streaming detector: row i is compared
with the rows before it.

- Windowed Gaussian (NAB's): mean and standard deviation of the last `window` rows.
- Rolling median/MAD: median and 1.4826 * median absolute deviation of the last `window`
  rows (the robust version Grafana-style bands use).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

__all__ = ["GAUSSIAN_WINDOW", "MAD_WINDOW", "rolling_mad_z", "windowed_gaussian_z"]

Floats = npt.NDArray[np.float64]

GAUSSIAN_WINDOW = 6400  # NAB's windowed Gaussian detector
MAD_WINDOW = 288  # one day of 5-minute rows
MAD_TO_SIGMA = 1.4826  # MAD of a normal distribution times this is its sigma


def _z(values: Floats, centre: Floats, scale: Floats) -> Floats:
    deviation = np.abs(values - centre)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = deviation / scale
    # A zero scale: any change is infinitely surprising, no change is not surprising at all.
    return np.where(scale > 0.0, z, np.where(deviation > 0.0, np.inf, 0.0))


def windowed_gaussian_z(values: Floats, window: int = GAUSSIAN_WINDOW) -> Floats:
    n = values.size
    sums = np.concatenate(([0.0], np.cumsum(values)))
    squares = np.concatenate(([0.0], np.cumsum(values * values)))
    ends = np.arange(n)
    starts = np.maximum(0, ends - window)
    counts = (ends - starts).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = (sums[ends] - sums[starts]) / counts
        variance = (squares[ends] - squares[starts]) / counts - mean * mean
    std = np.sqrt(np.maximum(variance, 0.0))
    z = _z(values, mean, std)
    z[counts < 2] = 0.0
    return np.nan_to_num(z, nan=0.0)


def rolling_mad_z(values: Floats, window: int = MAD_WINDOW) -> Floats:
    n = values.size
    z = np.zeros(n)
    if n <= window:
        return z
    past = sliding_window_view(values[:-1], window)  # past[k] = values[k : k + window]
    median = np.median(past, axis=1)
    mad = np.median(np.abs(past - median[:, None]), axis=1)
    z[window:] = _z(values[window:], median, MAD_TO_SIGMA * mad)
    return z
