"""The forecast candidates, each fitted on a prefix and then run from many origins at once.

`paths(y, origins, steps)[k, i]` forecasts `y[origins[k] + steps[i]]` from `y[:origins[k]]`:
parameters come from `fit` (on the prefix only), states move forward with the data, so a
backtest from every origin is genuinely out of sample and costs one pass over the series.
"""

from __future__ import annotations

import itertools
from typing import Protocol

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from domain.analytics.results import ForecastModel
from domain.analytics.series import FloatArray
from infra.analytics.methods._prep import stl

__all__ = [
    "DampedEts",
    "Model",
    "SeasonalNaive",
    "SeasonalNaiveDrift",
    "StlEts",
    "TheilSen",
    "candidates",
]

IntArray = npt.NDArray[np.int64]


class Model(Protocol):
    name: ForecastModel

    def fit(self, y: FloatArray, period: int) -> None: ...

    def paths(self, y: FloatArray, origins: IntArray, steps: IntArray) -> FloatArray: ...


def candidates(period: int, length: int) -> list[Model]:
    """The four candidates (STL+ETS needs a period and two whole cycles to fit on)."""
    models: list[Model] = [SeasonalNaiveDrift(), TheilSen(), DampedEts()]
    if period >= 2 and length >= 2 * period + 1:
        models.append(StlEts())
    return models


class SeasonalNaive:
    """The last value one period back (the baseline every score is compared with)."""

    name = ForecastModel.SEASONAL_NAIVE_DRIFT

    def __init__(self) -> None:
        self.period = 1

    def fit(self, y: FloatArray, period: int) -> None:
        self.period = max(1, period)

    def paths(self, y: FloatArray, origins: IntArray, steps: IntArray) -> FloatArray:
        m = self.period
        index = origins[:, None] - m + (steps % m)[None, :]
        return np.asarray(y[index], dtype=np.float64)


class SeasonalNaiveDrift(SeasonalNaive):
    """Seasonal naive plus the average change per bucket over the fitted prefix."""

    def __init__(self) -> None:
        super().__init__()
        self.drift = 0.0

    def fit(self, y: FloatArray, period: int) -> None:
        super().fit(y, period)
        m = self.period
        span = len(y) - m
        self.drift = float(y[-m:].mean() - y[:m].mean()) / span if span > 0 else 0.0

    def paths(self, y: FloatArray, origins: IntArray, steps: IntArray) -> FloatArray:
        # Each step of h carries the drift of the whole periods skipped plus one.
        skipped = (steps // self.period + 1) * self.period
        return super().paths(y, origins, steps) + self.drift * skipped[None, :]


class TheilSen:
    """A robust line (the median of seasonal-lag slopes, so the season cancels) plus the
    median level of each phase of the period about that line."""

    name = ForecastModel.THEIL_SEN
    MAX_PAIRS = 50_000

    def __init__(self) -> None:
        self.slope = 0.0
        self.levels = np.zeros(1)

    def fit(self, y: FloatArray, period: int) -> None:
        m = max(1, period)
        n = len(y)
        lags = np.unique(np.geomspace(m, max(m, n // 2), num=12).astype(np.int64) // m * m)
        lags = lags[(lags > 0) & (lags < n)]
        slopes = [((y[lag:] - y[:-lag]) / lag)[:: max(1, (n - lag) // 4_000)] for lag in lags]
        self.slope = float(np.median(np.concatenate(slopes))) if slopes else 0.0
        t = np.arange(n)
        self.levels = _phase_medians(y - self.slope * t, m)

    def paths(self, y: FloatArray, origins: IntArray, steps: IntArray) -> FloatArray:
        target = origins[:, None] + steps[None, :]
        m = len(self.levels)
        return np.asarray(self.levels[target % m] + self.slope * target, dtype=np.float64)


def _phase_medians(values: FloatArray, period: int) -> FloatArray:
    """`np.median(values[p::period])` for every phase p, from one sort of the cycles
    stacked as columns (a median per phase cost ~40 ms at a daily period of minutes)."""
    cycles = -(-len(values) // period)
    stacked = np.full(cycles * period, np.inf)
    stacked[: len(values)] = values
    ordered = np.sort(stacked.reshape(cycles, period), axis=0)  # the padding sorts last
    counts = np.full(period, len(values) // period)
    counts[: len(values) % period] += 1
    phases = np.arange(period)
    low, high = ordered[(counts - 1) // 2, phases], ordered[counts // 2, phases]
    return np.asarray(np.where(counts > 0, (low + high) / 2.0, np.nan), dtype=np.float64)


ALPHAS = (0.02, 0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9)
BETAS = (0.0, 0.02, 0.08, 0.2)
PHIS = (0.8, 0.9, 0.98)


class DampedEts:
    """Additive damped-trend exponential smoothing, ETS(A,Ad,N), as linear filters.

    With fixed parameters the one-step error is a second-order IIR filter of the series,
    e = y (1 - (1+phi)z^-1 + phi z^-2) / (1 + (a(1+phi b) - 1 - phi) z^-1 + phi(1-a) z^-2),
    and the trend a first-order filter of e, so scipy's lfilter (C) runs one setting in
    ~50 us; the grid of 96 settings (minimum one-step squared error) fits 8k points in
    4-9 ms of CPU where statsmodels' ETSModel.fit took 64-119 ms, with the same 288-step
    error within 1% (docs/decisions/0019-analytics-methods.md).
    """

    name = ForecastModel.DAMPED_ETS

    def __init__(self) -> None:
        self.alpha, self.beta, self.phi = 0.5, 0.0, 0.9

    def fit(self, y: FloatArray, period: int) -> None:
        shifted = y - y[0]
        best = np.inf
        for alpha, beta, phi in itertools.product(ALPHAS, BETAS, PHIS):
            sse = float(np.dot(e := _errors(shifted, alpha, beta, phi), e))
            if sse < best:
                best, (self.alpha, self.beta, self.phi) = sse, (alpha, beta, phi)

    def states(self, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Level and trend after each bucket (l[t], b[t] have seen y[:t+1])."""
        e = _errors(y - y[0], self.alpha, self.beta, self.phi)
        trend = lfilter([self.alpha * self.beta], [1.0, -self.phi], e)
        level = y - (1.0 - self.alpha) * e
        return np.asarray(level, dtype=np.float64), np.asarray(trend, dtype=np.float64)

    def paths(self, y: FloatArray, origins: IntArray, steps: IntArray) -> FloatArray:
        level, trend = self.states(y)
        h = steps + 1.0
        phi = self.phi
        damp = phi * (1.0 - phi**h) / (1.0 - phi)
        last = origins - 1
        return np.asarray(level[last, None] + damp[None, :] * trend[last, None], dtype=np.float64)


def _errors(y: FloatArray, alpha: float, beta: float, phi: float) -> FloatArray:
    b = [1.0, -(1.0 + phi), phi]
    a = [1.0, alpha * (1.0 + phi * beta) - 1.0 - phi, phi * (1.0 - alpha)]
    return np.asarray(lfilter(b, a, y), dtype=np.float64)


class StlEts:
    """STL's seasonal component (its last cycle repeated forward), damped ETS on the rest."""

    name = ForecastModel.STL_ETS

    def __init__(self) -> None:
        self.ets = DampedEts()
        self.seasonal = np.zeros(1)
        self.fitted_on = 0
        self.period = 1

    def fit(self, y: FloatArray, period: int) -> None:
        _, seasonal, _ = stl(y, period)
        self.period = period
        self.fitted_on = len(y)
        self.seasonal = seasonal
        self.ets.fit(y - seasonal, 1)

    def _seasonal(self, length: int) -> FloatArray:
        m, n = self.period, self.fitted_on
        known = self.seasonal[:n]
        if length <= n:
            return known[:length]
        extra = np.arange(n, length)
        # Index n - m + ((t - n) mod m): the last fitted cycle, repeated.
        return np.concatenate((known, known[n - m + (extra - n) % m]))

    def paths(self, y: FloatArray, origins: IntArray, steps: IntArray) -> FloatArray:
        seasonal = self._seasonal(int(origins.max()) + int(steps.max()) + 1)
        adjusted = self.ets.paths(y - seasonal[: len(y)], origins, steps)
        target = origins[:, None] + steps[None, :]
        return np.asarray(adjusted + seasonal[target], dtype=np.float64)
