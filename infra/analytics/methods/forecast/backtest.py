"""Rolling-origin backtest: scores per model, and split-conformal bands from its errors."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from domain.analytics.results import BacktestScores
from domain.analytics.series import FloatArray
from infra.analytics.methods.forecast.models import Model, SeasonalNaive

__all__ = ["MIN_ORIGINS", "Plan", "band_offsets", "plan", "score"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

MIN_ORIGINS = 20  # origins with a whole horizon ahead of them
MAX_ORIGINS = 120  # more origins only repeat nearly the same errors (and cost time)
MIN_FIT = 24
DENSE_STEPS = 32
SAMPLED_STEPS = 224
COVERAGE_LEVELS = (0.1, 0.9, 0.025, 0.975)  # the 80% band's ends, then the 95% band's


@dataclass(frozen=True, slots=True)
class Plan:
    """Fit on `y[:fit_end]`; forecast `steps` ahead (0: the next bucket) from each of
    `origins` (all >= fit_end). `steps` samples 1..horizon: every step up to DENSE_STEPS,
    then evenly, so a 2,000-bucket horizon costs ~256 columns, not 2,000."""

    fit_end: int
    origins: IntArray
    horizon: int
    steps: IntArray
    scale: float  # in-sample mean |y[t] - y[t - period]| over the fitted prefix


def plan(y: FloatArray, observed: BoolArray, period: int, horizon: int) -> Plan:
    """Half of what precedes the last whole horizon fits; the rest are origins.

    The horizon is shortened when the history cannot back-test it from MIN_ORIGINS
    origins; ValueError when even one bucket ahead cannot be.
    """
    n = len(y)
    min_fit = max(2 * period + 1, MIN_FIT)
    longest = n - min_fit - MIN_ORIGINS
    if longest < 1:
        raise ValueError(
            f"{n} buckets are too few to forecast with a period of {period} buckets; "
            f"at least {min_fit + MIN_ORIGINS + 1} are needed"
        )
    horizon = max(1, min(horizon, longest))
    fit_end = min(max(min_fit, (n - horizon) // 2), n - horizon - MIN_ORIGINS)
    stride = max(1, (n - fit_end) // MAX_ORIGINS)
    origins = np.arange(fit_end, n, stride, dtype=np.int64)
    m = max(1, period)
    pairs = observed[m:fit_end] & observed[: fit_end - m]
    diffs = np.abs(y[m:fit_end] - y[: fit_end - m])[pairs]
    scale = float(diffs.mean()) if diffs.size else math.nan
    if not scale > 0:
        scale = float(np.std(y[:fit_end])) or 1.0
    steps = np.unique(
        np.concatenate(
            (
                np.arange(min(horizon, DENSE_STEPS)),
                np.round(np.linspace(0, horizon - 1, SAMPLED_STEPS)),
            )
        ).astype(np.int64)
    )
    return Plan(fit_end=fit_end, origins=origins, horizon=horizon, steps=steps, scale=scale)


def errors_of(
    model: Model, y: FloatArray, observed: BoolArray, the_plan: Plan, period: int
) -> tuple[FloatArray, FloatArray]:
    """(signed errors actual - forecast, forecasts), both (origins x horizon); errors are
    NaN where there is nothing to compare (past the end, or a missing bucket)."""
    model.fit(y[: the_plan.fit_end], period)
    paths = model.paths(y, the_plan.origins, the_plan.steps)
    target = the_plan.origins[:, None] + the_plan.steps[None, :]
    inside = target < len(y)
    clipped = np.minimum(target, len(y) - 1)
    valid = inside & observed[clipped]
    return np.where(valid, y[clipped] - paths, np.nan), paths


def baseline_errors(y: FloatArray, observed: BoolArray, the_plan: Plan, period: int) -> FloatArray:
    return errors_of(SeasonalNaive(), y, observed, the_plan, period)[0]


def score(
    model: Model,
    errors: FloatArray,
    baseline: FloatArray,
    forecasts: FloatArray,
    the_plan: Plan,
    *,
    coverage: bool,
) -> BacktestScores:
    """MASE (horizons weighted alike), MAE relative to seasonal naive, sMAPE, and (with
    `coverage`, for the chosen model) the coverage of 80% and 95% bands calibrated on one
    half of the origins and counted on the other (cross-fitted: not the calibration's own)."""
    mae_h = _column_means(np.abs(errors))
    base_h = _column_means(np.abs(baseline))
    usable = ~np.isnan(mae_h) & ~np.isnan(base_h)
    mae = float(mae_h[usable].mean()) if usable.any() else math.nan
    base = float(base_h[usable].mean()) if usable.any() else math.nan
    actual = forecasts + errors
    denom = np.abs(actual) + np.abs(forecasts)
    ratio = np.where(denom > 0, 2.0 * np.abs(errors) / np.where(denom > 0, denom, 1.0), 0.0)
    coverage80, coverage95 = _cross_coverage(errors, the_plan) if coverage else (math.nan,) * 2
    return BacktestScores(
        model=model.name,
        mase=mae / the_plan.scale,
        relative_mae=mae / base if base > 0 else math.nan,
        smape=float(100.0 * ratio[~np.isnan(errors)].mean()) if usable.any() else math.nan,
        coverage80=coverage80,
        coverage95=coverage95,
        origins=len(the_plan.origins),
        horizon=the_plan.horizon,
    )


def _column_means(values: FloatArray) -> FloatArray:
    """Mean of each column over its non-NaN cells; NaN for a column without any."""
    seen = ~np.isnan(values)
    counts = seen.sum(axis=0)
    sums = np.where(seen, values, 0.0).sum(axis=0)
    return np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)


def band_offsets(errors: FloatArray, the_plan: Plan, levels: tuple[float, ...]) -> FloatArray:
    """Split-conformal quantiles of the signed errors per step ahead, (levels x horizon).

    Errors are pooled over a window of nearby steps (10% either side, at least 2) at 24
    knots spread geometrically, and interpolated between them: a quantile of ~100
    origins alone is noisy at 2.5%. Each level is pushed outward by the finite-sample
    conformal margin (1 / n of the tail).
    """
    horizon, steps = the_plan.horizon, the_plan.steps
    knots = np.unique(np.round(np.geomspace(1, horizon, num=24)).astype(np.int64) - 1)
    values = np.full((len(levels), len(knots)), np.nan)
    for k, h in enumerate(knots):
        width = max(2, round(0.1 * (h + 1)))
        near = np.abs(steps - h) <= width
        if near.sum() < 3:
            near = np.argsort(np.abs(steps - h))[:3]
        pooled = errors[:, near].ravel()
        pooled = pooled[~np.isnan(pooled)]
        if pooled.size < 5:
            continue
        n = pooled.size
        adjusted = [
            min(1.0, q + (1.0 - q) / n) if q > 0.5 else max(0.0, q - q / n) if q < 0.5 else q
            for q in levels
        ]
        values[:, k] = np.quantile(pooled, adjusted)
    out = np.empty((len(levels), horizon))
    for i in range(len(levels)):
        known = ~np.isnan(values[i])
        out[i] = (
            np.interp(np.arange(horizon), knots[known], values[i, known]) if known.any() else 0.0
        )
    return out


def _cross_coverage(errors: FloatArray, the_plan: Plan) -> tuple[float, float]:
    """Coverage of the 80% and 95% bands; each half's bands from one `band_offsets`
    (its levels are computed independently, so together they cost one pass, not two)."""
    half = errors.shape[0] // 2
    if half < 2:
        return math.nan, math.nan
    inside, total = [0, 0], 0
    for calib, check in ((errors[:half], errors[half:]), (errors[half:], errors[:half])):
        lo80, hi80, lo95, hi95 = band_offsets(calib, the_plan, COVERAGE_LEVELS)[:, the_plan.steps]
        valid = ~np.isnan(check)
        total += int(np.count_nonzero(valid))
        for i, (lo, hi) in enumerate(((lo80, hi80), (lo95, hi95))):
            within = (check >= lo[None, :]) & (check <= hi[None, :]) & valid
            inside[i] += int(np.count_nonzero(within))
    if not total:
        return math.nan, math.nan
    return inside[0] / total, inside[1] / total
