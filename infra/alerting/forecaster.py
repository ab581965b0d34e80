"""The Forecaster port: FORECAST rules' fits run in a worker process, off the event loop
(a fit of 720 buckets takes 10-70 ms of numpy and scipy; DESIGN.md: batch fits never run
on the event loop)."""

from __future__ import annotations

import asyncio
import math
import multiprocessing
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from domain.alerting.ports import ForecastInput

__all__ = ["ProcessForecaster", "extremes"]

# One input as plain data for the worker: values (NaN for None), start, step, horizon,
# level, upper.
Plain = tuple[list[float], int, int, int, float, bool]


def extremes(inputs: Sequence[Plain]) -> list[float | None]:
    """In the worker: each input's forecast extreme (None: cannot be forecast)."""
    from domain.analytics.series import Grid
    from infra.analytics.methods.forecast import fit_forecast

    found: list[float | None] = []
    for values, start, step, horizon, level, upper in inputs:
        try:
            grid = Grid(start, step, np.asarray(values, dtype=np.float64))
            fitted = fit_forecast(grid, horizon=horizon, period=None, levels=(level,))
        except ValueError:  # too short, nothing observed: a refusal, not a failure
            found.append(None)
            continue
        except Exception:  # a failed fit is an evaluation that failed (ERROR)
            found.append(math.nan)
            continue
        path = fitted.quantiles[level]
        found.append(float(np.max(path) if upper else np.min(path)) if len(path) else None)
    return found


class ProcessForecaster:
    """Fits in one worker process, started at the first FORECAST evaluation."""

    def __init__(self, *, workers: int = 1) -> None:
        self._workers = workers
        self._pool: ProcessPoolExecutor | None = None

    async def extremes(self, inputs: Sequence[ForecastInput]) -> list[float | None]:
        if self._pool is None:
            # spawn, not fork: the server process holds threads (DuckDB, uvicorn).
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self._workers, mp_context=context)
        plain = [
            (
                [math.nan if v is None else float(v) for v in i.values],
                i.start_us,
                i.step_us,
                i.horizon,
                i.level,
                i.upper,
            )
            for i in inputs
        ]
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, extremes, plain)

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await asyncio.to_thread(pool.shutdown, True, cancel_futures=True)
