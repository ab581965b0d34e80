"""Anomaly detection: accuracy on NAB and on seeded synthetic sets, and the cost per point.

Three detectors, each scored with NAB's rules (bench/nab/scoring.py) on every file of the
NAB copy in `VIGIL_NAB_DIR` (default `../shared/data/nab` beside the repository) and on
bench/nab/synthetic.py's sets:

- `vigil`: domain.anomaly's detector at its default configuration (sensitivity 50). A
  detection is an episode's first anomalous point (`Scored.onset`): what a user would be
  notified of; later points of the same episode are not counted again.
- `windowed_gaussian` and `rolling_mad`: the baselines (bench/nab/baselines.py), flagged
  by the same rule (p <= 1e-5 under a normal distribution, |z| >= 4.42) and counted the same
  way (episode starts).
- `*_nab_protocol`: the baselines as NAB publishes them: every flagged point counts, and
  the one threshold for the whole corpus that maximises each profile's score is found by
  sweeping (NAB's optimisation step). NAB published 39.6 (standard) for the windowed
  Gaussian on its 58 files: this is how to compare with it.

Per file: TP/FP/FN (windows detected, flags outside windows, windows missed), precision,
recall, F1 and the three NAB scores (files without windows have no NAB score; their FPs
cost in the totals). Cost: CPU microseconds per point of the detector's plain Python loop,
and its state size (JSON bytes).
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from bench import anomaly_server
from bench.common import Context, log, machine, now_iso
from bench.nab import baselines, corpus, scoring, synthetic
from domain.anomaly import AnomalyDetector, DetectorConfig
from domain.anomaly.model import score_to_p_value
from domain.anomaly.tuning import QUIET_POINTS

__all__ = ["run"]

Flags = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]
TARGET_STANDARD = 60.0
TARGET_US_PER_POINT = 20.0
SENSITIVITIES = (40.0, 50.0, 60.0)  # how flat the score is around the default


def _gaussian_z(p_value: float) -> float:
    return statistics.NormalDist().inv_cdf(1.0 - p_value / 2.0)


BASELINE_Z = _gaussian_z(score_to_p_value(DetectorConfig().threshold))


def episodes(flags: Flags, quiet: int = QUIET_POINTS) -> Flags:
    """Keep each run's first flag: a flag counts again only after `quiet` unflagged rows."""
    starts = np.zeros_like(flags)
    last = -quiet - 1
    for i in np.flatnonzero(flags):
        if i - last > quiet:
            starts[i] = True
        last = int(i)
    return starts


def vigil(series: corpus.Series, sensitivity: float = 50.0) -> tuple[Flags, float, int]:
    """Onset flags, CPU seconds of the observe loop, and the final state's JSON size."""
    detector = AnomalyDetector(DetectorConfig(sensitivity=sensitivity))
    observe = detector.observe
    onsets = np.zeros(len(series.values), dtype=bool)
    started = time.process_time()
    for i, (stamp, value) in enumerate(zip(series.timestamps_us, series.values, strict=True)):
        if observe(stamp, value).onset:
            onsets[i] = True
    cpu = time.process_time() - started
    return onsets, cpu, len(json.dumps(detector.to_state()))


def _row(name: str, result: dict[str, scoring.FileScore]) -> dict[str, Any]:
    std = result["standard"]
    return {
        "file": name,
        "tp": std.tp,
        "fp": std.fp,
        "fn": std.fn,
        "precision": _round(std.precision),
        "recall": _round(std.recall),
        "f1": _round(std.f1),
        **{f"nab_{p}": _round(s.normalized, 1) for p, s in result.items()},
    }


def _round(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _score_all(
    files: Sequence[corpus.Series], layouts: Sequence[scoring.Layout], flags: Sequence[Flags]
) -> dict[str, Any]:
    per_file = [
        {p.name: scoring.score_file(where, marks, p) for p in scoring.PROFILES}
        for where, marks in zip(layouts, flags, strict=True)
    ]
    totals: dict[str, Any] = {
        f"nab_{p.name}": _round(scoring.normalized(r[p.name] for r in per_file), 1)
        for p in scoring.PROFILES
    }
    tp = sum(r["standard"].tp for r in per_file)
    fp = sum(r["standard"].fp for r in per_file)
    fn = sum(r["standard"].fn for r in per_file)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    totals.update(tp=tp, fp=fp, fn=fn, precision=_round(precision), recall=_round(recall))
    totals["f1"] = _round(f1)
    pairs = list(zip(files, per_file, strict=True))
    totals["fp_on_files_without_windows"] = sum(r["standard"].fp for s, r in pairs if not s.windows)
    # NAB's target: nothing flagged on its artificialNoAnomaly series (synthetic: no_anomaly_*).
    totals["fp_on_no_anomaly_sets"] = sum(
        r["standard"].fp for s, r in pairs if "NoAnomaly" in s.name or "no_anomaly" in s.name
    )
    return {
        "totals": totals,
        "files": [_row(s.name, r) for s, r in zip(files, per_file, strict=True)],
    }


def _nab_protocol(layouts: Sequence[scoring.Layout], z: Sequence[Floats]) -> dict[str, Any]:
    found: dict[str, float | None] = {}
    for profile in scoring.PROFILES:
        threshold, score = scoring.best_threshold(layouts, z, profile)
        found[f"nab_{profile.name}"] = round(score, 1)
        # None: no threshold beats never firing (JSON has no infinity).
        found[f"threshold_{profile.name}"] = round(threshold, 3) if threshold < np.inf else None
    return {"totals": found}


def evaluate(files: Sequence[corpus.Series], label: str) -> dict[str, Any]:
    layouts = [scoring.layout(len(s.values), s.windows) for s in files]
    results: dict[str, Any] = {}
    cpu = 0.0
    flags, sizes = [], []
    for series in files:
        onsets, seconds, size = vigil(series)
        flags.append(onsets)
        sizes.append(size)
        cpu += seconds
    points = sum(len(s.values) for s in files)
    results["vigil"] = _score_all(files, layouts, flags)
    results["vigil"]["cost"] = {
        "us_per_point": round(cpu / points * 1e6, 2),
        "points": points,
        "state_bytes_max": max(sizes),
        "state_bytes_median": int(statistics.median(sizes)),
    }
    log(f"{label}: vigil done ({points} points, {cpu / points * 1e6:.1f} us/point)")
    for sensitivity in SENSITIVITIES:
        if sensitivity != DetectorConfig().sensitivity:
            marks = [vigil(s, sensitivity)[0] for s in files]
            totals = _score_all(files, layouts, marks)["totals"]
            results[f"vigil_sensitivity_{sensitivity:g}"] = {"totals": totals}
    makers: dict[str, Callable[[Floats], Floats]] = {
        "windowed_gaussian": baselines.windowed_gaussian_z,
        "rolling_mad": baselines.rolling_mad_z,
    }
    for name, make in makers.items():
        z = [make(np.asarray(s.values, dtype=np.float64)) for s in files]
        results[name] = _score_all(files, layouts, [episodes(x >= BASELINE_Z) for x in z])
        results[f"{name}_nab_protocol"] = _nab_protocol(layouts, z)
        log(f"{label}: {name} done")
    return results


def _print_table(label: str, results: dict[str, Any]) -> None:
    out = sys.stderr
    for name in ("vigil", "windowed_gaussian", "rolling_mad"):
        print(f"\n== {label}: {name}", file=out)
        print(
            f"{'file':60} {'tp':>3} {'fp':>4} {'fn':>3} {'prec':>5} {'rec':>5} {'f1':>5} "
            f"{'std':>6} {'lowFP':>6} {'lowFN':>6}",
            file=out,
        )
        for row in results[name]["files"]:
            cells = [
                "-" if row[k] is None else f"{row[k]:.2f}" for k in ("precision", "recall", "f1")
            ]
            nab = [
                "-" if row[k] is None else f"{row[k]:.1f}"
                for k in ("nab_standard", "nab_reward_low_fp", "nab_reward_low_fn")
            ]
            print(
                f"{row['file']:60} {row['tp']:>3} {row['fp']:>4} {row['fn']:>3} "
                f"{cells[0]:>5} {cells[1]:>5} {cells[2]:>5} {nab[0]:>6} {nab[1]:>6} {nab[2]:>6}",
                file=out,
            )
    print(f"\n== {label}: totals", file=out)
    for name, block in results.items():
        print(f"{name:40} {json.dumps(block['totals'])}", file=out)


def run(ctx: Context, *, server: bool = True) -> dict[str, Any]:
    """NAB and the synthetic sets in-process, then (with `server`) the detectors' cost and
    latency in a real server (bench/anomaly_server.py)."""
    result: dict[str, Any] = {
        "benchmark": "anomaly",
        "date": now_iso(),
        "machine": machine(),
        "targets": {"nab_standard_min": TARGET_STANDARD, "us_per_point_max": TARGET_US_PER_POINT},
    }
    directory = corpus.default_dir()
    if (directory / "windows.json").is_file():
        files = corpus.load_corpus(directory)
        log(f"NAB: {len(files)} files from {directory}")
        result["nab"] = evaluate(files, "NAB")
        _print_table("NAB", result["nab"])
        totals = result["nab"]["vigil"]["totals"]
        result["met"] = {
            "nab_standard": (totals["nab_standard"] or 0.0) >= TARGET_STANDARD,
            "no_flag_on_artificialNoAnomaly": totals["fp_on_no_anomaly_sets"] == 0,
            "us_per_point": result["nab"]["vigil"]["cost"]["us_per_point"] <= TARGET_US_PER_POINT,
        }
    else:
        message = f"NAB data not found in {directory} (set VIGIL_NAB_DIR): skipped"
        log(message)
        result["nab"] = {"skipped": message}
    result["synthetic"] = evaluate(synthetic.synthetic_corpus(), "synthetic")
    _print_table("synthetic", result["synthetic"])
    if server:
        result["server"] = anomaly_server.run(ctx)
        result.setdefault("met", {}).update(result["server"].get("met", {}))
    return result


if __name__ == "__main__":
    context = Context.create()
    try:
        in_process = "--no-server" in sys.argv
        sys.stdout.write(json.dumps(run(context, server=not in_process), allow_nan=False) + "\n")
    finally:
        context.cleanup()
