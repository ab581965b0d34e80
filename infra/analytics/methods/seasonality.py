"""SEASONALITY: which periods (hour, day, week, other) a series repeats, how strongly, and
its average shape over each."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from domain.analytics.results import DetectedPeriod, PeriodName, SeasonalityResult
from domain.analytics.series import DAY_US, HOUR_US, WEEK_US, FloatArray, Grid
from infra.analytics.methods._prep import fill_gaps, moving_average, seasonal_strength, stl

__all__ = ["MIN_CYCLES", "MIN_STRENGTH", "P_VALUE", "seasonality"]

IntArray = npt.NDArray[np.int64]

# A period is reported when its phase profile beats every one of SURROGATES shuffles
# (p = 0.5%) and its STL seasonal strength is at least MIN_STRENGTH. Both are chosen on
# principle, not fitted: with at most four candidates a series without a period is called
# periodic about 2% of the time, and a strength under 0.2 means the pattern explains under
# a fifth of the variance left once the trend is removed.
SURROGATES = 199
P_VALUE = 1 / (SURROGATES + 1)
MIN_STRENGTH = 0.2
MIN_CYCLES = 3
COARSE_POINTS = 2_500
LEAK_SHARE = 0.5
STANDARD = ((PeriodName.HOUR, HOUR_US), (PeriodName.DAY, DAY_US), (PeriodName.WEEK, WEEK_US))
# Phase 0 of a profile: midnight UTC, and Monday for the week (the epoch was a Thursday).
WEEK_ORIGIN_US = 4 * DAY_US


def seasonality(grid: Grid, *, seed: int = 0) -> SeasonalityResult:
    """Candidates are tested shortest first, each on what the periods already found leave,
    so a daily pattern is not also reported as weekly (it repeats every week too)."""
    found: list[DetectedPeriod] = []
    observed = grid.observed
    if observed.sum() >= 4 * MIN_CYCLES:
        y = fill_gaps(grid.values)
        remaining = y.copy()
        rng = np.random.default_rng(seed)
        for name, period in _candidates(grid, y):
            phase = _phases(grid, name, period)
            p_value = _phase_test(*_coarse(remaining, observed, phase, period), rng)
            if p_value > P_VALUE:
                continue
            profile = _profile(remaining, observed, phase, period)
            _, seasonal, residual = stl(remaining, period)
            strength = seasonal_strength(seasonal[observed], residual[observed])
            if strength < MIN_STRENGTH:
                continue
            remaining = remaining - profile[phase]
            # Report (and judge leaks by) the shape on the data as it is, shorter periods
            # included: the average day of a series with hourly and daily patterns.
            shape = _profile(y, observed, phase, period)
            found.append(
                DetectedPeriod(
                    name=name,
                    period_us=period * grid.step_us,
                    period_buckets=period,
                    strength=strength,
                    p_value=p_value,
                    profile_step_us=grid.step_us,
                    profile=tuple(float(v) for v in shape),
                )
            )
    found = [d for d in found if not _leaked(d, found)]
    found.sort(key=lambda d: -d.strength)
    return SeasonalityResult(
        tags=grid.tags, start_us=grid.start_us, end_us=grid.end_us, periods=tuple(found)
    )


def _leaked(short: DetectedPeriod, found: list[DetectedPeriod]) -> bool:
    """Whether a shorter period is only the fold of a longer one found after it.

    A daily square wave folded on the hour leaves its two edges in two hours of the day,
    and that folded shape tests significant. A true hourly pattern repeats in every hour
    of the daily profile: reshaped to (hours, minutes) with each hour's mean removed, the
    mean hour explains most of it. Below half, the shorter period is a leak.
    """
    for long in found:
        k = long.period_buckets // short.period_buckets
        if long is short or k < 2 or not _nested(short.period_buckets, long.period_buckets):
            continue
        rows = np.asarray(long.profile[: k * short.period_buckets]).reshape(k, -1)
        rows = rows - rows.mean(axis=1, keepdims=True)
        total = float(np.var(rows))
        if total > 0 and float(np.var(rows.mean(axis=0))) / total < LEAK_SHARE:
            return True
    return False


def _candidates(grid: Grid, y: FloatArray) -> list[tuple[PeriodName, int]]:
    n = len(y)
    out: list[tuple[PeriodName, int]] = []
    for name, period_us in STANDARD:
        period = round(period_us / grid.step_us)
        if period >= 2 and n >= MIN_CYCLES * period:
            out.append((name, period))
    other = _acf_peak(y, n // MIN_CYCLES)
    if other and not any(_nested(other, p) or _nested(p, other) for _, p in out):
        out.append((PeriodName.OTHER, other))
    return sorted(out, key=lambda c: c[1])


def _nested(short: int, long: int) -> bool:
    """Whether `long` is (within 5%) a whole multiple of `short`."""
    ratio = long / short
    return ratio >= 0.95 and abs(ratio - round(ratio)) < 0.05 * max(1.0, ratio / 4)


def _acf_peak(y: FloatArray, max_lag: int) -> int:
    """The lag of the highest local maximum of the autocorrelation (0 if none above 0.3)."""
    if max_lag < 4:
        return 0
    centred = y - moving_average(y, max_lag)
    spectrum = np.fft.rfft(centred, 2 * len(y))
    acov = np.fft.irfft(spectrum * np.conj(spectrum), 2 * len(y))[: max_lag + 2]
    if acov[0] <= 0:
        return 0
    acf = acov / acov[0]
    inner = acf[4:max_lag]
    peaks = np.flatnonzero((inner > acf[3 : max_lag - 1]) & (inner >= acf[5 : max_lag + 1]))
    if not peaks.size:
        return 0
    best = int(peaks[np.argmax(inner[peaks])])
    return best + 4 if inner[best] >= 0.3 else 0


def _phases(grid: Grid, name: PeriodName, period: int) -> IntArray:
    """Each bucket's position within the period, 0 at the period's calendar start."""
    origin = WEEK_ORIGIN_US if name is PeriodName.WEEK else 0
    first = 0 if name is PeriodName.OTHER else ((grid.start_us - origin) // grid.step_us) % period
    return np.asarray((first + np.arange(len(grid))) % period, dtype=np.int64)


def _profile(
    y: FloatArray, observed: npt.NDArray[np.bool_], phase: IntArray, period: int
) -> FloatArray:
    """Mean detrended value per phase, zero-mean; a phase never observed is interpolated."""
    detrended = (y - moving_average(y, period))[observed]
    ph = phase[observed]
    counts = np.bincount(ph, minlength=period)
    sums = np.bincount(ph, detrended, minlength=period)
    profile = fill_gaps(np.where(counts > 0, sums / np.maximum(counts, 1), np.nan))
    return np.asarray(profile - profile.mean(), dtype=np.float64)


def _coarse(
    y: FloatArray, observed: npt.NDArray[np.bool_], phase: IntArray, period: int
) -> tuple[FloatArray, npt.NDArray[np.bool_], IntArray, int]:
    """The series averaged over blocks of k buckets for the permutation test, k the largest
    divisor of the period keeping COARSE_POINTS buckets and a 24-point profile: a test on
    10k buckets costs ~3x one on 3k, and a period's shape survives the averaging."""
    n = len(y)
    fits = [d for d in range(2, period // 24 + 1) if period % d == 0 and n // d >= COARSE_POINTS]
    if not fits:
        return y, observed, phase, period
    k = max(fits)
    first = int(np.argmax(phase % k == 0))
    blocks = (n - first) // k
    window = slice(first, first + blocks * k)
    seen = observed[window].reshape(blocks, k)
    counts = seen.sum(axis=1)
    sums = np.where(seen, y[window].reshape(blocks, k), 0.0).sum(axis=1)
    coarse = np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)
    filled = fill_gaps(np.where(counts * 2 >= k, coarse, np.nan))
    return filled, counts * 2 >= k, phase[window][::k] // k, period // k


def _phase_test(
    y: FloatArray,
    observed: npt.NDArray[np.bool_],
    phase: IntArray,
    period: int,
    rng: np.random.Generator,
) -> float:
    """Permutation test of the phase profile's variance: the p-value.

    The null keeps each cycle intact but turns it by a random offset, so autocorrelated
    noise (which makes a smooth wiggle inside every cycle) is not mistaken for a period.
    """
    detrended = (y - moving_average(y, period))[observed]
    ph = phase[observed].astype(np.int32)
    cycle = np.cumsum(np.concatenate(([0], (np.diff(phase) < 0).astype(np.int32))))[observed]
    counts = np.bincount(ph, minlength=period)
    if (counts == 0).any():
        return 1.0
    profile = np.bincount(ph, detrended, minlength=period) / counts
    profile -= profile.mean()
    stat = float(np.var(profile))
    beaten = 0
    # In batches, stopping at the first batch with a surrogate at least as strong: a period
    # needs to beat them all, and most candidates fail in the first batch.
    for batch in (SURROGATES // 4, SURROGATES - SURROGATES // 4):
        shifts = rng.integers(0, period, size=(batch, int(cycle[-1]) + 1), dtype=np.int32)
        turned = ph[None, :] + shifts[:, cycle]
        turned -= np.where(turned >= period, period, 0).astype(np.int32)
        turned += (period * np.arange(batch, dtype=np.int32))[:, None]
        keys = turned.ravel()
        sums = np.bincount(keys, np.tile(detrended, batch), minlength=period * batch)
        hits = np.bincount(keys, minlength=period * batch)
        null = (sums / np.maximum(hits, 1)).reshape(batch, period)
        null_stat = np.var(null - null.mean(axis=1, keepdims=True), axis=1)
        beaten += int(np.count_nonzero(null_stat >= stat))
        if beaten:
            break
    return (1 + beaten) / (SURROGATES + 1)
