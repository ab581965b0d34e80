"""CAPACITY: when a series reaches a limit (a fixed value or another series), with odds."""

from __future__ import annotations

import math

import numpy as np

from domain.analytics.results import CapacityResult, CapacityStatus
from domain.analytics.series import FloatArray, Grid
from infra.analytics.methods._slopes import slope_order_statistics
from infra.analytics.methods.forecast import fit_forecast

__all__ = ["capacity"]

LEVELS = (0.05, 0.5, 0.95)


def capacity(
    usage: Grid, *, limit: float | Grid, horizon: int, period: int | None = None
) -> CapacityResult:
    """The first bucket where usage reaches the limit on three forecast paths.

    p05 is where the 95th-percentile path (the backtest's conformal band) first reaches
    it: the earliest plausible time; p50 the median path; p95 the 5th-percentile path,
    the latest. A nightly burst is a seasonal pattern to the forecast, so it comes back
    each night at its size instead of being extrapolated ("full in 0 h" is what a straight
    line through the burst's rise says). A limit series is held at its last value:
    capacity changes by decision, not by trend. `trend_crossing_us` extends a Sen line
    through each period's peak past the horizon, to say "months" where the horizon
    cannot.
    """
    ceiling, limit_tags = _limit(limit)
    observed = usage.values[usage.observed]
    fitted = fit_forecast(usage, horizon=horizon, period=period, levels=LEVELS)
    horizon_end = fitted.start_us + len(fitted.mean) * fitted.step_us
    if observed.size and observed[-1] >= ceiling:
        times: list[int | None] = [None, None, None]
        status = CapacityStatus.ALREADY_CROSSED
    else:
        times = [
            _first_at_or_above(fitted.quantiles[level], ceiling, fitted.start_us, fitted.step_us)
            for level in (0.95, 0.5, 0.05)
        ]
        status = (
            CapacityStatus.CROSSING
            if times[1] is not None
            else CapacityStatus.POSSIBLE
            if times[0] is not None
            else CapacityStatus.NOT_WITHIN_HORIZON
        )
    return CapacityResult(
        tags=usage.tags,
        status=status,
        limit=ceiling if isinstance(limit, int | float) else None,
        limit_tags=limit_tags,
        horizon_end_us=horizon_end,
        p05_us=times[0],
        p50_us=times[1],
        p95_us=times[2],
        trend_crossing_us=_peak_trend_crossing(usage, fitted.period, ceiling),
        model=fitted.model,
    )


def _limit(limit: float | Grid) -> tuple[float, dict[str, str] | None]:
    if isinstance(limit, Grid):
        seen = limit.values[limit.observed]
        if not seen.size:
            raise ValueError("the limit series has no value")
        return float(seen[-1]), dict(limit.tags)
    return float(limit), None


def _first_at_or_above(path: FloatArray, ceiling: float, start_us: int, step_us: int) -> int | None:
    hits = np.flatnonzero(path >= ceiling)
    return start_us + int(hits[0]) * step_us if hits.size else None


def _peak_trend_crossing(usage: Grid, period: int, ceiling: float) -> int | None:
    """Where a Sen line through each period's highest value reaches the limit (None when it
    does not rise or there are too few periods)."""
    block = period if period >= 2 else max(1, len(usage) // 50)
    blocks = len(usage) // block
    if blocks < 4:
        return None
    first = len(usage) - blocks * block  # whole blocks ending at the last bucket
    shaped = usage.values[first:].reshape(blocks, block)
    seen = ~np.isnan(shaped).all(axis=1)
    if seen.sum() < 4:
        return None
    peaks = np.nanmax(shaped[seen], axis=1)
    where = np.asarray((np.flatnonzero(seen) + 0.5) * block + first, dtype=np.float64)
    pairs = len(peaks) * (len(peaks) - 1) // 2
    low, high = slope_order_statistics(where, peaks, [(pairs - 1) // 2, pairs // 2])
    slope = 0.5 * (low + high)
    if not slope > 0:
        return None
    intercept = float(np.median(peaks - slope * where))
    at = (ceiling - intercept) / slope
    if not math.isfinite(at) or at > 1e12:
        return None
    return usage.time_of(max(at, float(len(usage))))
