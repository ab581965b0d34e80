"""A DuckDB file with many points, written before `vigil serve` opens it: the API would
take tens of seconds to ingest what DuckDB writes in a few."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from infra.stores.duckdb.migrations import migrate

__all__ = ["heavy_store", "process_cpu_seconds"]


def heavy_store(path: Path, points: int, *, project: str = "demo") -> tuple[str, str]:
    """`heavy` (one series, `points` points one millisecond apart, ending a minute ago) and
    `light` (ten points) in `project`; returns the range [from, to) holding them all."""
    end_us = (int(time.time()) - 60) * 1_000_000
    first_us = end_us - points * 1000
    con = duckdb.connect(str(path))
    try:
        con.execute("SET enable_progress_bar = false")
        migrate(con)
        con.execute(
            "INSERT INTO series VALUES ($p, 1, 'heavy', MAP {'host': 'a'}, 'gauge', '', '', "
            "now()::TIMESTAMP), ($p, 2, 'light', MAP {'host': 'a'}, 'gauge', '', '', "
            "now()::TIMESTAMP)",
            {"p": project},
        )
        con.execute(
            "INSERT INTO points_hot SELECT 1, make_timestamp($first + i * 1000), random() "
            "FROM range($n) t(i)",
            {"first": first_us, "n": points},
        )
        con.execute(
            "INSERT INTO points_hot SELECT 2, make_timestamp($first + i * 1000), i "
            "FROM range(10) t(i)",
            {"first": first_us},
        )
    finally:
        con.close()
    return _iso(first_us), _iso(end_us + 1)


def _iso(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).isoformat().replace("+00:00", "Z")


def process_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process and its threads, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")
