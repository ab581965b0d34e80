"""Accuracy parts of the analytics bench: seasonality and change points on the seeded
synthetic sets, forecasts on the NAB series held out at their last 20%."""

from __future__ import annotations

import csv
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.analytics_data import change_point_set, seasonality_set
from domain.analytics.series import Grid
from infra.analytics.methods import change_points, seasonality
from infra.analytics.methods.forecast import fit_forecast

__all__ = ["change_point_accuracy", "forecast_accuracy", "nab_dir", "seasonality_accuracy"]

ROOT = Path(__file__).resolve().parent.parent
MIN_STRENGTH = 0.6  # the brief: every NAB series whose seasonal strength is at least 0.6
HOLD_OUT = 0.2
LEVELS = (0.025, 0.1, 0.9, 0.975)


def seasonality_accuracy() -> dict[str, Any]:
    """Right = exactly the true period reported (and nothing else); none = nothing."""
    by_truth: dict[str, list[int]] = {}
    wrong = []
    for case in seasonality_set():
        found = [p.name.value for p in seasonality(case.grid).periods]
        right = found == ([] if case.truth == "none" else [case.truth])
        by_truth.setdefault(case.truth, []).append(int(right))
        if not right:
            wrong.append({"case": case.name, "snr": round(case.snr, 2), "found": found})
    total = [r for rights in by_truth.values() for r in rights]
    return {
        "per_class": {k: {"right": sum(v), "of": len(v)} for k, v in by_truth.items()},
        "right_share": round(sum(total) / len(total), 4),
        "target": 0.95,
        "met": sum(total) / len(total) >= 0.95,
        "wrong": wrong,
    }


def change_point_accuracy() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, hard in (("main", False), ("hard", True)):
        cases = change_point_set(hard=hard)
        found = [[p.index for p in change_points(c.grid).points] for c in cases]
        out[name] = {
            f"within_{tol}": _f1([list(c.changes) for c in cases], found, tol) for tol in (2, 5)
        }
    out["target_f1_within_2"] = 0.9
    out["met"] = out["main"]["within_2"]["f1"] >= 0.9
    return out


def _f1(truths: list[list[int]], founds: list[list[int]], tolerance: int) -> dict[str, float]:
    hits = false = missed = 0
    for truth, found in zip(truths, founds, strict=True):
        free = list(truth)
        for index in found:
            match = next((t for t in free if abs(t - index) <= tolerance), None)
            if match is None:
                false += 1
            else:
                free.remove(match)
                hits += 1
        missed += len(free)
    precision = hits / (hits + false) if hits + false else 1.0
    recall = hits / (hits + missed) if hits + missed else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"f1": round(f1, 4), "precision": round(precision, 4), "recall": round(recall, 4)}


def nab_dir() -> Path:
    return Path(os.environ.get("VIGIL_NAB_DIR", ROOT.parent / "shared" / "data" / "nab"))


def load_nab(path: Path) -> Grid:
    """A NAB file on its median step; two rows in one bucket are averaged."""
    stamps, values = [], []
    with path.open(newline="") as f:
        for row in csv.DictReader(f):
            moment = datetime.fromisoformat(row["timestamp"]).replace(tzinfo=UTC)
            stamps.append(int(moment.timestamp()) * 1_000_000)
            values.append(float(row["value"]))
    times = np.array(stamps, dtype=np.int64)
    step = int(np.median(np.diff(times)))
    index = np.round((times - times[0]) / step).astype(np.int64)
    sums = np.bincount(index, np.array(values))
    counts = np.bincount(index)
    grid_values = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    return Grid(int(times[0]), step, grid_values, {"file": f"{path.parent.name}/{path.name}"})


def forecast_accuracy() -> dict[str, Any]:
    """Each NAB series with a period of strength >= 0.6 (our SEASONALITY on the whole
    file): fit on the first 80%, forecast the last 20% in one go. MASE is the holdout MAE
    over the training's in-sample one-period seasonal-naive MAE (Hyndman); the baseline is
    the seasonal-naive forecast (the last training period repeated) scored the same way."""
    folder = nab_dir()
    if not folder.is_dir():
        return {"skipped": f"no NAB data at {folder} (set VIGIL_NAB_DIR)"}
    files: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*/*.csv")):
        grid = load_nab(path)
        found = seasonality(grid).periods
        if not found or found[0].strength < MIN_STRENGTH:
            continue
        files.append(_holdout(grid, found[0].period_buckets, found[0].strength))
    finite = [f for f in files if math.isfinite(f["mase"])]
    points = sum(f["points"] for f in files)
    total = {
        "files": len(files),
        "mase_mean": _round(np.mean([f["mase"] for f in finite])),
        "mase_median": _round(np.median([f["mase"] for f in finite])),
        "seasonal_naive_mase_mean": _round(np.mean([f["seasonal_naive_mase"] for f in finite])),
        "relative_mae_mean": _round(np.mean([f["relative_mae"] for f in finite])),
        "coverage80_pooled": _round(sum(f["coverage80"] * f["points"] for f in files) / points),
        "coverage95_pooled": _round(sum(f["coverage95"] * f["points"] for f in files) / points),
        "files_mase_below_1": sum(f["mase"] < 1.0 for f in files),
    }
    total["met"] = {
        "mase_below_1": bool(total["mase_mean"] < 1.0),
        "coverage95_90_98": bool(0.90 <= total["coverage95_pooled"] <= 0.98),
        "coverage80_72_88": bool(0.72 <= total["coverage80_pooled"] <= 0.88),
    }
    return {"per_file": files, "total": total, "mase_note": "NaN: a noiseless file, scale 0"}


def _holdout(grid: Grid, period: int, strength: float) -> dict[str, Any]:
    cut = int(len(grid) * (1 - HOLD_OUT))
    train = Grid(grid.start_us, grid.step_us, grid.values[:cut], grid.tags)
    fitted = fit_forecast(train, horizon=len(grid) - cut, period=period, levels=LEVELS)
    horizon = len(fitted.mean)
    actual = grid.values[cut : cut + horizon]
    seen = ~np.isnan(actual)
    y = train.values
    scale = float(np.nanmean(np.abs(y[period:] - y[:-period])))
    naive = y[cut - period + np.arange(horizon) % period]
    error = np.abs(actual - fitted.mean)[seen]
    naive_error = np.abs(actual - naive)[seen & ~np.isnan(naive)]
    q = fitted.quantiles
    inside95 = (actual >= q[0.025]) & (actual <= q[0.975])
    inside80 = (actual >= q[0.1]) & (actual <= q[0.9])
    return {
        "file": grid.tags["file"],
        "period": period,
        "strength": _round(strength),
        "model": fitted.model.value,
        "horizon": horizon,
        "points": int(seen.sum()),
        "mase": _round(error.mean() / scale) if scale > 0 else math.nan,
        "seasonal_naive_mase": _round(naive_error.mean() / scale) if scale > 0 else math.nan,
        "relative_mae": _round(error.mean() / naive_error.mean())
        if naive_error.mean() > 0
        else math.nan,
        "coverage80": _round(inside80[seen].mean()),
        "coverage95": _round(inside95[seen].mean()),
        "backtest": {
            "mase": _round(fitted.scores.mase),
            "coverage80": _round(fitted.scores.coverage80),
            "coverage95": _round(fitted.scores.coverage95),
        },
    }


def _round(value: float | np.floating[Any]) -> float:
    return round(float(value), 4)
