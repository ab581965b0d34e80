"""Compaction on DuckDB: closed time partitions move from the table ingest appends to
into one ordered by (series, time), where a one-series query reads only its row groups
and values compress better (docs/decisions/0026-duckdb-compaction.md).

Readers use the view `points` (both tables); writers name a table. A partition moves in
one transaction (insert sorted, delete from hot), so a crash at any moment leaves every
point in exactly one of the two tables. Late points of a partition already compacted
land in the hot table and move at the next run, as a short sorted run of their own.

The open partition is not left hot until it closes: its closed slices (a sixth of a
partition) move as short sorted runs, and once the partition closes its runs are merged
into one, in one transaction too. The hot table so holds minutes of points, not an hour.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb

from domain.errors import Unavailable
from domain.storage.tiers import ROLLUP_TIERS
from infra.selfmon import monitor_point
from infra.stores.duckdb.faults import commit
from infra.stores.duckdb.runner import Cursor, Runner

__all__ = [
    "GRACE_US",
    "POINTS_SCHEMA",
    "SLICES",
    "CompactionRun",
    "Compactor",
    "closed_partitions",
    "closed_runs",
    "compact_partition",
    "delete_raw_points",
    "merge_partition",
    "partitions_to_merge",
]

logger = logging.getLogger("vigil.store")

# A partition is closed once its end is this far in the past: collectors a little late
# still write into the hot table, and their points need no second move.
GRACE_US = 120 * 1_000_000

POINTS_SCHEMA = (
    # No key and no index: appends stay one columnar insert, and scans rely on DuckDB's
    # per-row-group min/max of `ts` (points arrive roughly in time order).
    """
    CREATE TABLE IF NOT EXISTS points_hot (
        series_id   BIGINT NOT NULL,
        ts          TIMESTAMP NOT NULL,
        value       DOUBLE NOT NULL
    )
    """,
    # Closed partitions, each written ordered by (series_id, ts): row groups' min/max of
    # series_id skip the other series, and sorted columns compress (RLE, bit packing).
    """
    CREATE TABLE IF NOT EXISTS points_compacted (
        series_id   BIGINT NOT NULL,
        ts          TIMESTAMP NOT NULL,
        value       DOUBLE NOT NULL
    )
    """,
    # Partitions compacted slice by slice while open, whose runs are still to be merged.
    """
    CREATE TABLE IF NOT EXISTS compaction_slices (
        partition_us    BIGINT PRIMARY KEY
    )
    """,
    # DuckDB pushes filters on series_id and ts through the UNION ALL into both scans.
    """
    CREATE OR REPLACE VIEW points AS
    SELECT series_id, ts, value FROM points_hot
    UNION ALL
    SELECT series_id, ts, value FROM points_compacted
    """,
)

_PARTITIONS = """
    SELECT DISTINCT epoch_us(ts) // $size AS n FROM points_hot
    WHERE ts < make_timestamp($cut) ORDER BY n
"""
_PARTITION_SIZES = """
    SELECT epoch_us(ts) // $size AS n, count(*) FROM points_hot
    WHERE ts < make_timestamp($cut) GROUP BY n ORDER BY n
"""
# Closed partitions are moved together until a move holds this many points: a backfilled
# year of one series is 8,760 partitions of 12 points, each move a scan of the hot table.
RUN_POINTS = 1_000_000
_RANGE = "ts >= make_timestamp($lo) AND ts < make_timestamp($hi)"
_MOVE = f"""
    INSERT INTO points_compacted
    SELECT series_id, ts, value FROM points_hot WHERE {_RANGE} ORDER BY series_id, ts
"""
_DELETE_HOT = f"DELETE FROM points_hot WHERE {_RANGE}"
_MARK = "INSERT INTO compaction_slices VALUES ($partition) ON CONFLICT DO NOTHING"
_TO_MERGE = """
    SELECT partition_us FROM compaction_slices WHERE partition_us + $size <= $before
    ORDER BY partition_us
"""
_RUN = f"""
    CREATE TEMP TABLE compaction_run AS
    SELECT series_id, ts, value FROM points_compacted WHERE {_RANGE} ORDER BY series_id, ts
"""
_DELETE_COMPACTED = f"DELETE FROM points_compacted WHERE {_RANGE}"
_PUT_BACK = "INSERT INTO points_compacted SELECT series_id, ts, value FROM compaction_run"
SLICES = 6  # slices of the open partition compacted before it closes


@dataclass(frozen=True, slots=True)
class CompactionRun:
    """What one run did: moves of closed partitions (consecutive small ones move
    together) and of slices from the hot table (`points` in all), partitions whose
    slices were merged into one run."""

    partitions: int
    points: int
    seconds: float
    slices: int = 0
    merged: int = 0

    @property
    def moves(self) -> int:
        return self.partitions + self.slices + self.merged


def closed_partitions(cur: Cursor, size_us: int, before_us: int) -> list[int]:
    """The start of every partition of `size_us` that ends at or before `before_us` and
    still has points in the hot table, oldest first."""
    cut = before_us - before_us % size_us
    rows = cur.execute(_PARTITIONS, {"size": size_us, "cut": cut}).fetchall()
    return [int(n) * size_us for (n,) in rows]


def closed_runs(
    cur: Cursor, size_us: int, before_us: int, most: int = RUN_POINTS
) -> list[tuple[int, int]]:
    """As closed_partitions, but consecutive partitions joined into ranges [start, end) of
    at most `most` hot points each (a partition with more is a range of its own)."""
    cut = before_us - before_us % size_us
    runs: list[tuple[int, int]] = []
    held = 0
    for n, count in cur.execute(_PARTITION_SIZES, {"size": size_us, "cut": cut}).fetchall():
        start, end = int(n) * size_us, (int(n) + 1) * size_us
        if runs and held + int(count) <= most:
            runs[-1] = (runs[-1][0], end)
            held += int(count)
        else:
            runs.append((start, end))
            held = int(count)
    return runs


def compact_partition(
    cur: Cursor, start_us: int, end_us: int, *, merge_later: int | None = None
) -> int:
    """Move the hot points of [start, end) into the compacted table, sorted, in one
    transaction; returns how many moved. Appends committed meanwhile stay in the hot
    table (the snapshot does not see them) and move at the next run. `merge_later`: the
    partition this range is a slice of, whose runs `merge_partition` joins once closed."""
    bounds = {"lo": start_us, "hi": end_us}
    cur.begin()
    try:
        ((moved,),) = cur.execute(_MOVE, bounds).fetchall()
        ((deleted,),) = cur.execute(_DELETE_HOT, bounds).fetchall()
        if moved != deleted:  # one snapshot for both statements: never expected
            raise RuntimeError(f"compaction copied {moved} points but deleted {deleted}")
        if merge_later is not None:
            cur.execute(_MARK, {"partition": merge_later})
        commit(cur)
    except BaseException:
        with suppress(duckdb.Error):
            cur.rollback()
        raise
    return int(moved)


def partitions_to_merge(cur: Cursor, size_us: int, before_us: int) -> list[int]:
    """Partitions compacted slice by slice that have closed since, oldest first."""
    rows = cur.execute(_TO_MERGE, {"size": size_us, "before": before_us}).fetchall()
    return [int(start) for (start,) in rows]


def merge_partition(cur: Cursor, start_us: int, end_us: int) -> int:
    """Rewrite the compacted points of [start, end) as one run sorted by (series, time),
    in one transaction; returns how many."""
    bounds = {"lo": start_us, "hi": end_us}
    cur.begin()
    try:
        cur.execute(_RUN, bounds)
        ((deleted,),) = cur.execute(_DELETE_COMPACTED, bounds).fetchall()
        ((moved,),) = cur.execute(_PUT_BACK).fetchall()
        cur.execute("DROP TABLE compaction_run")
        if moved != deleted:
            raise RuntimeError(f"merging copied {moved} points but deleted {deleted}")
        cur.execute("DELETE FROM compaction_slices WHERE partition_us = $p", {"p": start_us})
        commit(cur)
    except BaseException:
        with suppress(duckdb.Error):
            cur.rollback()
        raise
    return int(moved)


def delete_raw_points(cur: Cursor, series_ids: Sequence[int], lo_us: int, hi_us: int) -> int:
    """Delete the raw points of `series_ids` in [lo_us, hi_us) from both tables; how many.
    Runs in the caller's transaction (retention wraps it in one per time slice). The
    rollup tiers' dirty spans of those series then start after the range.

    In the compacted table an old partition is a run of whole row groups, which the next
    checkpoint drops once every row is deleted; nothing is rewritten.
    """
    if not series_ids:
        return 0
    params = {"lo": lo_us, "hi": hi_us, "ids": list(series_ids)}
    deleted = 0
    for table in ("points_hot", "points_compacted"):
        ((count,),) = cur.execute(
            f"DELETE FROM {table} WHERE {_RANGE} AND series_id IN (SELECT unnest($ids::BIGINT[]))",
            params,
        ).fetchall()
        deleted += int(count)
    for tier in ROLLUP_TIERS:
        # A dirty span must not recompute a bucket whose points are gone: it keeps the
        # buckets that start at or after the deleted range's end.
        r = tier.resolution_us
        cur.execute(
            "UPDATE rollup_dirty_spans SET lo_us = $kept WHERE tier = $tier AND lo_us < $kept"
            " AND series_id IN (SELECT unnest($ids::BIGINT[]))",
            {"kept": -(-hi_us // r) * r, "tier": tier.name, "ids": list(series_ids)},
        )
    cur.execute("DELETE FROM rollup_dirty_spans WHERE lo_us > hi_us")
    return deleted


class Compactor:
    """Compacts closed partitions on the runner's maintenance thread, one at a time: a
    partition is the unit of memory (DuckDB sorts it, spilling to its temp directory
    past `memory_limit`) and of work lost to a crash or a stop."""

    def __init__(
        self,
        runner: Runner,
        *,
        partition_seconds: int = 3_600,
        now_us: Callable[[], int] = lambda: time.time_ns() // 1000,
    ) -> None:
        if partition_seconds <= 0 or partition_seconds % 60:
            # Whole minutes: the partition is then SLICES slices exactly, so that no slice
            # straddles two partitions.
            raise ValueError("a compaction partition lasts a whole number of minutes")
        self._run = runner
        self._size_us = partition_seconds * 1_000_000
        self._now_us = now_us
        self.moved_points = 0  # for self-monitoring (metric_points)
        self.failures = 0

    async def compact(self) -> CompactionRun:
        """Move every closed partition, then every closed slice, that has hot points;
        then merge the slices of partitions that have closed."""
        started = time.perf_counter()
        size, run = self._size_us, self._run.maintain
        before = self._now_us() - GRACE_US
        ranges = await run(closed_runs, size, before)
        moved = 0
        for start, end in ranges:
            logger.info("store: compacting the partitions from %s to %s", _iso(start), _iso(end))
            moved += (done := await run(compact_partition, start, end))
            self.moved_points += done
        piece = size // SLICES
        slices = await run(closed_partitions, piece, before)
        for start in slices:
            whole = start - start % size
            moved += (done := await run(compact_partition, start, start + piece, merge_later=whole))
            self.moved_points += done
        merges = await run(partitions_to_merge, size, before)
        for start in merges:
            logger.info("store: merging the slices of the partition from %s", _iso(start))
            await run(merge_partition, start, start + size)
        seconds = time.perf_counter() - started
        return CompactionRun(len(ranges), moved, seconds, len(slices), len(merges))

    def metric_points(self) -> list[dict[str, Any]]:
        """Counters for self-monitoring: points moved out of the hot table, failed runs."""
        return [
            monitor_point("vigil.store.compacted_points_total", self.moved_points, "counter", {}),
            monitor_point("vigil.store.compaction_failures_total", self.failures, "counter", {}),
        ]

    async def run(self, every_seconds: float) -> None:
        """Compact every `every_seconds` until cancelled. A failed step (a conflicting
        replacement of a point, a full disk) is rolled back; the steps before it stay done
        and the rest is tried again next time."""
        while True:
            await asyncio.sleep(every_seconds)
            try:
                done = await self.compact()
            except Unavailable:
                continue  # the store is being reopened or closed
            except Exception as exc:
                self.failures += 1
                logger.warning("store: compaction failed, will retry: %s", exc)
                continue
            if done.moves:
                logger.info(
                    "store: compacted %d points of %d partitions and %d slices, merged %d"
                    " partitions, in %.2f s",
                    done.points,
                    done.partitions,
                    done.slices,
                    done.merged,
                    done.seconds,
                )


def _iso(us: int) -> str:
    return datetime.fromtimestamp(us / 1e6, UTC).isoformat().replace("+00:00", "Z")
