"""The DuckDB append path alone: points/s and CPU per point, before and after a change.

`python -m bench.store_append [--baseline /work/main]` appends the same points through
`DuckDBDatabase.metrics.append` (no HTTP, no validation) with the code of this tree and
with the code of the baseline tree, alternately, each in a fresh process on a fresh file,
and prints one JSON line with both and their ratio. Workloads:

- `5000x200`: 1M points of 1,000 series in 200 batches of 5,000, one at a time, each
  batch five instants of every series (as bench/ingest.py sends them);
- `100x8`: 100-point batches of other series, 8 appends at a time (group commit), 100k
  points;
- `resend`: the 1M points of `5000x200` sent again over the stored ones (a retry of
  everything: the careful path of one point per (series, timestamp)).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
SERIES, INSTANTS, STEP_US = 1_000, 1_000, 10_000_000


def batches(size: int, instants: int = INSTANTS, project: str = "bench") -> list[object]:
    from domain.metrics.ingest import PointBatch, SeriesSpec, series_id
    from domain.metrics.model import MetricType

    start = (time.time_ns() // 1000 - 2 * 86_400_000_000) // STEP_US * STEP_US
    specs = [
        SeriesSpec(
            series_id(project, "bench.metric", (("series", f"s{s}"),)),
            "bench.metric",
            {"series": f"s{s}"},
            MetricType.GAUGE,
            "",
            "",
        )
        for s in range(SERIES)
    ]
    out: list[object] = []
    points = [(i, s) for i in range(instants) for s in range(SERIES)]  # time-major
    for first in range(0, len(points), size):
        chunk = points[first : first + size]
        used = sorted({s for _, s in chunk})
        slot = {s: n for n, s in enumerate(used)}
        out.append(
            PointBatch(
                project,
                [specs[s] for s in used],
                [slot[s] for _, s in chunk],
                [start + i * STEP_US for i, _ in chunk],
                [((s * 31 + i * 17) % 1000) * 0.1 for i, s in chunk],
            )
        )
    return out


async def child(path: str) -> dict[str, dict[str, float]]:
    from infra.stores.duckdb import DuckDBDatabase

    results: dict[str, dict[str, float]] = {}
    big = batches(5_000)
    small = batches(100, instants=100, project="small")  # series of their own
    db = await DuckDBDatabase.open(path)
    try:

        async def timed(name: str, work: list[object], parallel: int) -> None:
            points = sum(len(b) for b in work)  # type: ignore[arg-type]
            wall, cpu = time.perf_counter(), time.process_time()
            for first in range(0, len(work), parallel):
                group = work[first : first + parallel]
                await asyncio.gather(*(db.metrics.append(b) for b in group))  # type: ignore[arg-type]
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            results[name] = {"points_per_s": points / wall, "cpu_us_per_point": cpu / points * 1e6}

        await timed("5000x200", big, 1)
        await timed("100x8", small, 8)
        await timed("resend", big, 1)
    finally:
        await db.close()
    return results


def run_child(root: Path) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(root)}
        out = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--child", f"{tmp}/bench.duckdb"],
            env=env,
            cwd=root,
            check=True,
            capture_output=True,
            text=True,
        )
    result: dict[str, dict[str, float]] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--baseline", default="/work/main", help="the tree to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, os.environ["PYTHONPATH"])
        print(json.dumps(asyncio.run(child(args.child))))
        return
    runs: dict[str, list[dict[str, dict[str, float]]]] = {"this": [], "baseline": []}
    for _ in range(args.rounds):  # alternated, so that load on the machine hits both
        runs["baseline"].append(run_child(Path(args.baseline)))
        runs["this"].append(run_child(HERE))
    report: dict[str, object] = {"benchmark": "store_append", "rounds": args.rounds}
    for workload in runs["this"][0]:
        row = {}
        for tree, results in runs.items():
            for key in ("points_per_s", "cpu_us_per_point"):
                row[f"{tree}_{key}"] = round(
                    statistics.median(r[workload][key] for r in results), 2
                )
        row["ratio_points_per_s"] = round(
            row["this_points_per_s"] / row["baseline_points_per_s"], 3
        )
        report[workload] = row
    print(json.dumps(report))


if __name__ == "__main__":
    main()
