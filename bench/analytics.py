"""Analytics: accuracy of each method on labelled and seeded data, and its speed.

- Seasonality: the share of a seeded synthetic set (bench/analytics_data.py) where exactly
  the true period (1 h, 1 d, 1 w) or "none" is reported. Target 95%.
- Forecast: every NAB series with a period of strength >= 0.6, fit on the first 80% and
  scored on the last 20% (bench/analytics_accuracy.py). Targets: MASE below 1 against
  seasonal naive, 95% band coverage 90-98%, 80% band coverage 72-88%.
- Change points: F1 within +/-2 buckets on a seeded set with known shifts (target 0.9),
  and on a harder set reported apart.
- Speed: the median of RUNS synchronous runs of each kind on 10k points (target 200 ms),
  and a FORECAST over 1,000 series x 10k points in 2 worker processes (target 60 s).

Run alone with `python -m bench.analytics` (NAB from VIGIL_NAB_DIR, default
../shared/data/nab from the repo root): a table per file and in total, then the JSON.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

import numpy as np
import orjson

from bench import analytics_queue, analytics_serving
from bench.analytics_accuracy import (
    change_point_accuracy,
    forecast_accuracy,
    seasonality_accuracy,
)
from bench.common import Context, log, machine, now_iso
from domain.analytics.series import MINUTE_US, Grid
from infra.analytics.methods import (
    capacity,
    change_points,
    comparison,
    correlation,
    forecast,
    seasonality,
    trend,
)

__all__ = ["run"]

RUNS = 5
POINTS = 10_000
JOB_SERIES = 1_000
JOB_WORKERS = 2
JOB_HORIZON = 2_000
STEP = 5 * MINUTE_US
T0 = 1_700_006_400_000_000
TARGET_SYNC_MS = 200.0
TARGET_JOB_S = 60.0


def _series(seed: int, n: int = POINTS) -> np.ndarray:
    """Daily, weekly, both or neither; trend, AR(1) noise, 10% missing."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    kind = seed % 4
    day = np.sin(2 * np.pi * t / 288) * rng.uniform(1, 5) if kind in (0, 2) else 0.0
    week = (((t // 288) % 7) < 5) * rng.uniform(1, 4) if kind in (1, 2) else 0.0
    noise = np.zeros(n)
    e = rng.normal(0, 1, n)
    for i in range(1, n):
        noise[i] = 0.5 * noise[i - 1] + e[i]
    values = 50 + day + week + noise + rng.normal(0, 2) * t / n
    values[rng.choice(n, n // 10, replace=False)] = np.nan
    return np.asarray(values)


def _timed(fn: Callable[[], object]) -> float:
    fn()  # warm-up (imports, caches)
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return round(1000 * statistics.median(times), 1)


def sync_speed() -> dict[str, Any]:
    g = Grid(T0, STEP, _series(0), {"host": "a"})
    small = [Grid(T0, STEP, _series(s, 500), {"host": f"h{s}"}) for s in range(20)]
    window_start = T0 + 400 * STEP
    halves = [Grid(T0, STEP, _series(s, 500), {"host": f"h{s % 5}"}) for s in range(20)]
    runs: dict[str, Callable[[], object]] = {
        "TREND": lambda: trend(g),
        "SEASONALITY": lambda: seasonality(g),
        "CHANGE_POINTS": lambda: change_points(g),
        "FORECAST": lambda: forecast(g, horizon=288),
        "CAPACITY": lambda: capacity(g, limit=100.0, horizon=288),
        "CORRELATION": lambda: correlation(
            small, window_start_us=window_start, window_end_us=window_start + 100 * STEP
        ),
        "COMPARISON": lambda: comparison(halves[:10], halves[10:], group_by=["host"]),
    }
    ms = {kind: _timed(fn) for kind, fn in runs.items()}
    return {
        "points": POINTS,
        "median_ms": ms,
        "target_ms": TARGET_SYNC_MS,
        "met": all(v < TARGET_SYNC_MS for v in ms.values()),
        "note": "CORRELATION: 20 series x 500 points; COMPARISON: 10 + 10 series x 500",
    }


def _forecast_one(seed: int, values: np.ndarray) -> tuple[str, float]:
    started = time.process_time()
    result = forecast(Grid(T0, STEP, values, {"series": str(seed)}), horizon=JOB_HORIZON)
    return result.model.value, time.process_time() - started


def job_speed() -> dict[str, Any]:
    """What the job runner will do: series handed to 2 worker processes, results back."""
    log(f"analytics: generating {JOB_SERIES} series x {POINTS} points")
    data = [(seed, _series(1_000 + seed)) for seed in range(JOB_SERIES)]
    models: Counter[str] = Counter()
    cpu: list[float] = []
    started = time.monotonic()
    last_progress = started
    with ProcessPoolExecutor(max_workers=JOB_WORKERS) as pool:
        futures = [pool.submit(_forecast_one, seed, values) for seed, values in data]
        for done, future in enumerate(as_completed(futures), 1):
            model, seconds = future.result()
            models[model] += 1
            cpu.append(seconds)
            if time.monotonic() - last_progress >= 1.0:
                last_progress = time.monotonic()
                log(f"analytics: FORECAST job {done}/{JOB_SERIES} series")
    wall = time.monotonic() - started
    return {
        "series": JOB_SERIES,
        "points_per_series": POINTS,
        "horizon": JOB_HORIZON,
        "workers": JOB_WORKERS,
        "wall_s": round(wall, 1),
        "cpu_s_per_series_median": round(statistics.median(cpu), 4),
        "cpu_s_total": round(sum(cpu), 1),
        "models_chosen": dict(models),
        "target_s": TARGET_JOB_S,
        "met": wall < TARGET_JOB_S,
    }


def run(ctx: Context) -> dict[str, Any]:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # workers: one core each
    log("analytics: seasonality")
    season = seasonality_accuracy()
    log("analytics: change points")
    changes = change_point_accuracy()
    log("analytics: forecasts on NAB")
    forecasts = forecast_accuracy()
    log("analytics: speed of each kind on 10k points")
    sync = sync_speed()
    job = job_speed()
    log("analytics: a FORECAST job through a real server, and ingest latency meanwhile")
    serving = analytics_serving.run(ctx)
    log("analytics: one poll of the job queue")
    queue = analytics_queue.poll_cost(ctx.tmp)
    return {
        "benchmark": "analytics",
        "date": now_iso(),
        "machine": machine(),
        "seasonality": season,
        "change_points": changes,
        "forecast": forecasts,
        "speed": {"sync": sync, "forecast_job": job},
        "serving": serving,
        "queue": queue,
    }


def _table(result: dict[str, Any]) -> str:
    lines = []
    s = result["seasonality"]
    per = ", ".join(f"{k} {v['right']}/{v['of']}" for k, v in s["per_class"].items())
    lines.append(f"SEASONALITY right period: {s['right_share']:.1%} ({per}); target 95%")
    c = result["change_points"]
    for name in ("main", "hard"):
        f = c[name]
        lines.append(
            f"CHANGE_POINTS {name}: F1 +/-2 {f['within_2']['f1']:.3f} "
            f"(P {f['within_2']['precision']:.3f} R {f['within_2']['recall']:.3f}), "
            f"F1 +/-5 {f['within_5']['f1']:.3f}"
        )
    fc = result["forecast"]
    if "skipped" in fc:
        lines.append(f"FORECAST on NAB: skipped: {fc['skipped']}")
    else:
        lines.append(
            f"{'FORECAST file':52} {'period':>6} {'model':>20} {'MASE':>6} {'naive':>6} "
            f"{'rel':>5} {'c80':>5} {'c95':>5}"
        )
        for f in fc["per_file"]:
            lines.append(
                f"{f['file']:52} {f['period']:>6} {f['model']:>20} {f['mase']:>6.3f} "
                f"{f['seasonal_naive_mase']:>6.3f} {f['relative_mae']:>5.2f} "
                f"{f['coverage80']:>5.2f} {f['coverage95']:>5.2f}"
            )
        t = fc["total"]
        lines.append(
            f"FORECAST total ({t['files']} files): MASE mean {t['mase_mean']:.3f} "
            f"(median {t['mase_median']:.3f}; seasonal naive {t['seasonal_naive_mase_mean']:.3f}),"
            f" {t['files_mase_below_1']} files below 1; coverage 80% {t['coverage80_pooled']:.3f},"
            f" 95% {t['coverage95_pooled']:.3f}"
        )
    sp = result["speed"]
    lines.append(
        "SPEED 10k points (median ms): "
        + ", ".join(f"{k} {v}" for k, v in sp["sync"]["median_ms"].items())
    )
    j = sp["forecast_job"]
    lines.append(
        f"FORECAST job {j['series']} x {j['points_per_series']} (horizon {j['horizon']}, "
        f"{j['workers']} processes): {j['wall_s']} s wall, {j['cpu_s_per_series_median']} s "
        f"CPU per series; models {j['models_chosen']}"
    )
    return "\n".join(lines)


def main() -> int:
    ctx = Context.create()
    try:
        result = run(ctx)
    finally:
        ctx.cleanup()
    print(_table(result))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
