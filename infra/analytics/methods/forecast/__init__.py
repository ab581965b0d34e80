"""FORECAST: per series, the candidate with the best rolling-origin backtest, with bands."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from domain.analytics.results import BacktestScores, ForecastModel, ForecastResult
from domain.analytics.series import FloatArray, Grid
from infra.analytics.methods._prep import fill_gaps
from infra.analytics.methods.forecast.backtest import (
    band_offsets,
    baseline_errors,
    errors_of,
    plan,
    score,
)
from infra.analytics.methods.forecast.models import candidates
from infra.analytics.methods.seasonality import seasonality

__all__ = ["FittedForecast", "fit_forecast", "forecast"]

BAND_LEVELS = (0.025, 0.1, 0.9, 0.975)


@dataclass(frozen=True, slots=True)
class FittedForecast:
    """The chosen model's path and its quantile paths (`quantiles[level]`)."""

    model: ForecastModel
    period: int
    start_us: int
    step_us: int
    mean: FloatArray
    quantiles: dict[float, FloatArray]
    scores: BacktestScores
    candidates: tuple[BacktestScores, ...]


def forecast(grid: Grid, *, horizon: int, period: int | None = None) -> ForecastResult:
    """`horizon` buckets after the grid's end, with 80% and 95% bands.

    `period` (buckets) defaults to the strongest period SEASONALITY finds, else none. The
    horizon is shortened when the history cannot back-test it (see `backtest.plan`).
    """
    fitted = fit_forecast(grid, horizon=horizon, period=period, levels=BAND_LEVELS)
    q = fitted.quantiles
    return ForecastResult(
        tags=grid.tags,
        model=fitted.model,
        period_buckets=fitted.period,
        start_us=fitted.start_us,
        step_us=fitted.step_us,
        mean=_floats(fitted.mean),
        lower80=_floats(q[0.1]),
        upper80=_floats(q[0.9]),
        lower95=_floats(q[0.025]),
        upper95=_floats(q[0.975]),
        scores=fitted.scores,
        candidates=fitted.candidates,
    )


def fit_forecast(
    grid: Grid, *, horizon: int, period: int | None, levels: tuple[float, ...]
) -> FittedForecast:
    observed = grid.observed
    if observed.sum() < 2:
        raise ValueError("a forecast needs observed buckets; this series has almost none")
    y = fill_gaps(grid.values)
    if period is None:
        found = seasonality(grid).periods
        period = found[0].period_buckets if found else 1
    period = max(1, period)
    the_plan = plan(y, observed, period, horizon)
    baseline = baseline_errors(y, observed, the_plan, period)
    models = candidates(period, the_plan.fit_end)
    runs = [errors_of(model, y, observed, the_plan, period) for model in models]
    scored = [
        score(model, errors, baseline, paths, the_plan, coverage=False)
        for model, (errors, paths) in zip(models, runs, strict=True)
    ]
    finite = [i for i, s in enumerate(scored) if np.isfinite(s.mase)]
    chosen = min(finite, key=lambda i: scored[i].mase) if finite else 0
    model = models[chosen]
    errors, paths = runs[chosen]
    scored[chosen] = score(model, errors, baseline, paths, the_plan, coverage=True)
    offsets = band_offsets(errors, the_plan, levels)
    # The chosen model refitted on the whole history forecasts from its end.
    model.fit(y, period)
    end = np.array([len(y)], dtype=np.int64)
    mean = model.paths(y, end, np.arange(the_plan.horizon, dtype=np.int64))[0]
    return FittedForecast(
        model=model.name,
        period=period,
        start_us=grid.end_us,
        step_us=grid.step_us,
        mean=mean,
        quantiles={level: mean + offsets[i] for i, level in enumerate(levels)},
        scores=scored[chosen],
        candidates=tuple(scored),
    )


def _floats(values: FloatArray) -> tuple[float, ...]:
    return tuple(np.asarray(values, dtype=np.float64).tolist())
