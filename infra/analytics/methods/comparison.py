"""COMPARISON: one period against another (week over week, before and after a release)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from domain.analytics.results import ComparisonResult, Mover, PeriodSummary
from domain.analytics.series import FloatArray, Grid

__all__ = ["QUANTILES", "comparison"]

QUANTILES = (0.5, 0.9, 0.95, 0.99)


def comparison(
    current: Sequence[Grid],
    baseline: Sequence[Grid],
    *,
    group_by: Sequence[str] = (),
    quantiles: Sequence[float] = QUANTILES,
    top: int = 10,
) -> ComparisonResult:
    """Summary statistics and quantiles of every bucket of every series in each period,
    and the `top` groups whose mean moved most (by absolute change).

    Groups are the values of the `group_by` tags (all of a series' tags when empty); a
    group present in one period only is compared against NaN and ranked last.
    """
    levels = tuple(float(q) for q in quantiles)
    now, before = _summary(current, levels), _summary(baseline, levels)
    keys = tuple(group_by)
    now_groups, before_groups = _group_means(current, keys), _group_means(baseline, keys)
    movers = []
    for group in now_groups.keys() | before_groups.keys():
        cur, base = now_groups.get(group, math.nan), before_groups.get(group, math.nan)
        movers.append(
            Mover(
                tags=dict(group),
                baseline_mean=base,
                current_mean=cur,
                delta=cur - base,
                relative=_relative(cur, base),
            )
        )
    movers.sort(key=lambda m: -abs(m.delta) if math.isfinite(m.delta) else math.inf)
    return ComparisonResult(
        quantile_levels=levels,
        current=now,
        baseline=before,
        mean_delta=now.mean - before.mean,
        mean_relative=_relative(now.mean, before.mean),
        group_by=keys,
        movers=tuple(movers[:top]),
    )


def _values(grids: Sequence[Grid]) -> FloatArray:
    if not grids:
        return np.empty(0)
    joined = np.concatenate([g.values for g in grids])
    return np.asarray(joined[~np.isnan(joined)], dtype=np.float64)


def _summary(grids: Sequence[Grid], levels: tuple[float, ...]) -> PeriodSummary:
    values = _values(grids)
    start = min((g.start_us for g in grids), default=0)
    end = max((g.end_us for g in grids), default=0)
    if not values.size:
        nan = math.nan
        return PeriodSummary(start, end, 0, nan, nan, nan, nan, 0.0, tuple(nan for _ in levels))
    return PeriodSummary(
        start_us=start,
        end_us=end,
        count=int(values.size),
        mean=float(values.mean()),
        std=float(values.std()),
        min=float(values.min()),
        max=float(values.max()),
        sum=float(values.sum()),
        quantiles=tuple(float(v) for v in np.quantile(values, levels)),
    )


def _group_means(
    grids: Sequence[Grid], keys: tuple[str, ...]
) -> dict[tuple[tuple[str, str], ...], float]:
    sums: dict[tuple[tuple[str, str], ...], float] = defaultdict(float)
    counts: dict[tuple[tuple[str, str], ...], int] = defaultdict(int)
    for grid in grids:
        tags = grid.tags
        group = tuple((k, tags.get(k, "")) for k in keys) if keys else tuple(sorted(tags.items()))
        seen = grid.values[grid.observed]
        sums[group] += float(seen.sum())
        counts[group] += int(seen.size)
    return {group: sums[group] / counts[group] for group in sums if counts[group]}


def _relative(current: float, baseline: float) -> float:
    return (current - baseline) / abs(baseline) if baseline else math.nan
