"""Query: `metricSeries` over HTTP on the 1M points, against the same SQL run directly in DuckDB.

Four chart queries over the whole range of the ingest benchmark's data (~2.8 h):

  a. one series (`series = s0`) averaged at 1-minute steps (168 buckets);
  b. all 1,000 series averaged together at 5-minute steps (`groupBy: []`, one line);
  c. the max per tag `series` at 10-minute steps (`groupBy: ["series"]`, 1,000 lines);
  d. the last value of every series (`aggregation: LAST`, no step, 1,000 lines).

Vigil's figure is the wall time of the HTTP request (client and server on 127.0.0.1,
response decoded). The baseline is the same aggregation written by hand in SQL against
Vigil's tables (infra/stores/duckdb/schema.py), run with python duckdb on a copy of the
file (Vigil's server holds the original), results fetched into numpy. After warm-up, the
two alternate run by run, so that both meet the same (drifting) machine; each reports its
median, and every one of Vigil's answers is checked against the baseline's answer of the
same round (`runs_with_another_answer` counts the rounds where they differ).

Before both, the file's closed hourly partitions are compacted as a server running for one
compaction period would have (decision 0026), and so are the open hour's closed slices;
`store` reports the bytes per point before and after, and the points left hot.
"""

from __future__ import annotations

import math
import os
import shutil
import time
from datetime import UTC, datetime
from typing import Any

import duckdb
import httpx
import orjson

from bench import ingest
from bench.common import (
    PROJECT,
    Context,
    CpuWatch,
    log,
    machine,
    median,
    now_iso,
    ratio,
    start_vigil,
    token,
)
from infra.stores.duckdb.compaction import (
    GRACE_US,
    SLICES,
    closed_partitions,
    closed_runs,
    compact_partition,
)

__all__ = ["run"]

WARMUP = 2
RUNS = 11
TARGET_RATIO = 3.0

QUERY = """
query Series($project: String!, $name: String!, $from: DateTime!, $to: DateTime,
             $step: String, $aggregation: Aggregation, $matchers: [TagMatcherInput!],
             $groupBy: [String!]) {
  metricSeries(project: $project, name: $name, from: $from, to: $to, step: $step,
               aggregation: $aggregation, matchers: $matchers, groupBy: $groupBy) {
    timestamps
    series { tags values }
  }
}
"""

# The fastest plain SQL we found for each case: filter points by a semi-join on the
# series ids (no join carrying the tags through a million rows), aggregate by series id,
# and only then attach the tag. Vigil resolves series in its in-memory catalogue instead.
_SERIES = "SELECT id FROM series WHERE project = $project AND name = $name"
_POINTS = f"""
    FROM points p WHERE p.series_id IN ({_SERIES}{{extra}})
      AND p.ts >= make_timestamp($start) AND p.ts < make_timestamp($end)
"""
_BUCKET = "(epoch_us(p.ts) - $first) // $step"
_BY_TAG = """
    WITH sel AS (SELECT id, tags['series'] AS g FROM series
                 WHERE project = $project AND name = $name),
    agg AS (SELECT p.series_id, {bucket} AS b, {fn} AS v
            FROM points p WHERE p.series_id IN (SELECT id FROM sel)
              AND p.ts >= make_timestamp($start) AND p.ts < make_timestamp($end)
            GROUP BY ALL)
    SELECT sel.g AS g, agg.b AS b, {outer} AS v FROM agg JOIN sel ON agg.series_id = sel.id
    GROUP BY ALL
"""

# name -> (GraphQL variables beyond project/name/from/to, step in minutes, SQL)
CASES: dict[str, tuple[dict[str, Any], int | None, str]] = {
    "a_one_series_avg_1m": (
        {
            "step": "1m",
            "aggregation": "AVG",
            "matchers": [{"key": "series", "op": "EQ", "value": "s0"}],
        },
        1,
        f"SELECT 's0' AS g, {_BUCKET} AS b, avg(p.value) AS v "
        + _POINTS.format(extra=" AND tags['series'] = 's0'")
        + " GROUP BY b ORDER BY b",
    ),
    "b_all_series_avg_5m": (
        {"step": "5m", "aggregation": "AVG", "groupBy": []},
        5,
        f"SELECT '' AS g, {_BUCKET} AS b, avg(p.value) AS v "
        + _POINTS.format(extra="")
        + " GROUP BY b ORDER BY b",
    ),
    "c_max_by_series_10m": (
        {"step": "10m", "aggregation": "MAX", "groupBy": ["series"]},
        10,
        _BY_TAG.format(bucket=_BUCKET, fn="max(p.value)", outer="max(agg.v)"),
    ),
    "d_last_every_series": (
        {"aggregation": "LAST"},
        None,
        # One series per tag value here, so the outer any_value is exact.
        _BY_TAG.format(bucket="0", fn="arg_max(p.value, p.ts)", outer="any_value(agg.v)"),
    ),
}


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _checksum(lines: int, values: list[float]) -> tuple[int, int, float]:
    return lines, len(values), math.fsum(values)


def _same(a: tuple[int, int, float], b: tuple[int, int, float]) -> bool:
    return a[0] == b[0] and a[1] == b[1] and math.isclose(a[2], b[2], rel_tol=1e-9, abs_tol=1e-6)


class _Baseline:
    """The hand-written SQL on a copy of the file, with python duckdb."""

    def __init__(self, path: str, start_us: int, end_us: int) -> None:
        self.con = duckdb.connect(path, read_only=True)
        self.start_us, self.end_us = start_us, end_us

    def once(self, name: str) -> tuple[float, tuple[int, int, float], dict[str, Any]]:
        _, minutes, sql = CASES[name]
        params: dict[str, Any] = {
            "project": PROJECT,
            "name": ingest.NAME,
            "start": self.start_us,
            "end": self.end_us,
        }
        if minutes is not None:
            step = minutes * 60_000_000
            params |= {"first": self.start_us - self.start_us % step, "step": step}
        started = time.perf_counter()
        columns = self.con.execute(sql, params).fetchnumpy()
        ms = (time.perf_counter() - started) * 1000
        values = [float(v) for v in columns["v"]]
        return ms, _checksum(len(set(columns["g"].tolist())), values), {}

    def close(self) -> None:
        self.con.close()


class _Vigil:
    """`metricSeries` over HTTP; the time includes sending, answering and decoding."""

    def __init__(self, url: str, auth: str, start_ms: int, end_ms: int) -> None:
        self.url = url
        self.client = httpx.Client(
            headers={"authorization": f"Bearer {auth}", "content-type": "application/json"},
            timeout=60.0,
        )
        base = {"project": PROJECT, "name": ingest.NAME, "from": _iso(start_ms), "to": _iso(end_ms)}
        self.bodies = {
            name: orjson.dumps({"query": QUERY, "variables": {**base, **variables}})
            for name, (variables, _, _) in CASES.items()
        }

    def once(self, name: str) -> tuple[float, tuple[int, int, float], dict[str, Any]]:
        started = time.perf_counter()
        response = self.client.post(self.url, content=self.bodies[name])
        answer = orjson.loads(response.content)
        ms = (time.perf_counter() - started) * 1000
        if response.status_code != 200 or answer.get("errors"):
            raise RuntimeError(f"metricSeries {name} failed: {response.text[:500]}")
        data = answer["data"]["metricSeries"]
        values = [v for line in data["series"] for v in line["values"] if v is not None]
        meta = {
            "lines": len(data["series"]),
            "buckets": len(data["timestamps"]),
            "response_kb": round(len(response.content) / 1024, 1),
        }
        return ms, _checksum(len(data["series"]), values), meta

    def close(self) -> None:
        self.client.close()


def _measure(vigil: _Vigil, baseline: _Baseline) -> dict[str, dict[str, Any]]:
    """Each case: warm-up, then Vigil and the baseline in turn, so both meet the same
    machine (its speed drifts by tens of percent within minutes)."""
    out: dict[str, dict[str, Any]] = {}
    for name in CASES:
        for _ in range(WARMUP):
            vigil.once(name)
            baseline.once(name)
        v_times, b_times, mismatches = [], [], 0
        for _ in range(RUNS):
            ms, v_check, meta = vigil.once(name)
            v_times.append(ms)
            ms, b_check, _ = baseline.once(name)
            b_times.append(ms)
            mismatches += not _same(v_check, b_check)  # every run's answer, not the last only
        out[name] = {
            "vigil_ms": median(v_times),
            "baseline_ms": median(b_times),
            "same": mismatches == 0,
            "runs_with_another_answer": mismatches,
            "vigil_runs_ms": [round(t, 2) for t in v_times],
            "baseline_runs_ms": [round(t, 2) for t in b_times],
            **meta,
        }
    return out


def _compact(path: str) -> dict[str, Any]:
    """What a server running for one compaction period has done (decision 0026): closed
    partitions moved to the table ordered by series; the bytes per point before and after
    (DuckDB's used blocks). The data ends a minute ago, so the last partition stays hot."""
    con = duckdb.connect(path)
    try:

        def used() -> float:
            rows = con.execute("SELECT used_blocks * block_size FROM pragma_database_size()")
            return float(rows.fetchall()[0][0])

        con.execute("CHECKPOINT")
        before, started = used(), time.perf_counter()
        size = 3_600 * 1_000_000  # VIGIL_STORE_COMPACTION_PARTITION_SECONDS' default
        before_us, piece = time.time_ns() // 1000 - GRACE_US, size // SLICES
        moved = sum(  # as Compactor.compact: closed partitions, then the open one's slices
            compact_partition(con, start, end) for start, end in closed_runs(con, size, before_us)
        ) + sum(
            compact_partition(con, start, start + piece, merge_later=start - start % size)
            for start in closed_partitions(con, piece, before_us)
        )
        seconds = time.perf_counter() - started
        con.execute("CHECKPOINT")
        ((hot,),) = con.execute("SELECT count(*) FROM points_hot").fetchall()
        points = ingest.SERIES * ingest.POINTS_PER_SERIES
        return {
            "points_compacted": moved,
            "points_hot": int(hot),
            "compaction_s": round(seconds, 3),
            "bytes_per_point_before": round(before / points, 2),
            "bytes_per_point_after": round(used() / points, 2),
        }
    finally:
        con.close()


def run(ctx: Context) -> dict[str, Any]:
    if ctx.db_path is None:
        log("query: no data yet; loading the 1M points first (not timed)")
        ingest.load(ctx)
    assert ctx.db_path is not None
    store = _compact(str(ctx.db_path))
    log(f"query: compacted {store}")
    start_ms, end_ms = ctx.data_start_ms, ctx.data_end_ms + ingest.STEP_MS  # end exclusive
    copy = ctx.tmp / "query-copy.duckdb"
    shutil.copyfile(ctx.db_path, copy)  # the Vigil server is stopped: the file is complete

    auth = token(ctx.db_path)
    baseline = _Baseline(str(copy), start_ms * 1000, end_ms * 1000)
    try:
        with start_vigil(ctx.db_path, ctx.tmp) as server:
            vigil = _Vigil(f"{server.url}/graphql", auth, start_ms, end_ms)
            try:
                watch = CpuWatch([server.pid, os.getpid()])
                measured = _measure(vigil, baseline)
                cpu = watch.stop()
            finally:
                vigil.close()
    finally:
        baseline.close()
    log(
        "query: "
        + ", ".join(
            f"{k[:1]} {v['vigil_ms']:.1f} vs {v['baseline_ms']:.1f} ms" for k, v in measured.items()
        )
    )

    cases = {}
    for name, m in measured.items():
        r = ratio(m["vigil_ms"], m["baseline_ms"])
        cases[name] = {
            "vigil_ms": round(m["vigil_ms"], 2),
            "baseline_ms": round(m["baseline_ms"], 2),
            "ratio": r,
            "met": r is not None and r <= TARGET_RATIO,
            "same_answer": m["same"],
            "runs_with_another_answer": m["runs_with_another_answer"],
            "lines": m["lines"],
            "buckets": m["buckets"],
            "response_kb": m["response_kb"],
            "vigil_runs_ms": m["vigil_runs_ms"],
            "baseline_runs_ms": m["baseline_runs_ms"],
        }
    return {
        "benchmark": "query",
        "date": now_iso(),
        "machine": machine(),
        "workload": {
            "points": ingest.SERIES * ingest.POINTS_PER_SERIES,
            "range": [_iso(start_ms), _iso(end_ms)],
            "runs": RUNS,
            "warmup": WARMUP,
        },
        "cases": cases,
        "store": store,
        "cpu": cpu,
        "targets": {"ratio_max": TARGET_RATIO},
        "met": all(c["met"] and c["same_answer"] for c in cases.values()),
    }
