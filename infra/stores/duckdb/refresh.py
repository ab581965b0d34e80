"""Recomputing dirty tier buckets from raw points, in transactions on the writer.

A refresh holds the writer thread, so every append that arrives meanwhile waits for it;
and its cost is mostly a scan of the raw points in its windows' time range, whatever the
number of spans (a backfill's points are not in time order on disk, so zone maps skip
little). So refreshes are few and large (about REFRESH_SECONDS each, every dirty span up
to `limit`, the window of buckets adapting), and a series still taking late points waits
(`quiet_seconds` after its latest, at most REFRESH_WAIT_AT_MOST after its first):
recomputing buckets that keep changing is work thrown away, and a stream of late batches
into the same minutes made the refresh run, 40-90 ms at a time, without a pause. Its dirty
buckets are read from raw points meanwhile, so no answer changes; only the time until the
tier serves them (decision 0035).
"""

from __future__ import annotations

import time

import numpy as np

from domain.storage.slices import next_slice
from domain.storage.tiers import Tier
from infra.stores.duckdb.dirty_spans import KnownSpans
from infra.stores.duckdb.rollup_sql import rollup_sql, table_of
from infra.stores.duckdb.runner import Cursor

__all__ = ["DirtyRefresher"]

REFRESH_SECONDS = 0.25
REFRESH_WAIT_AT_MOST = 60.0
FIRST_WINDOW, MAX_WINDOW_BUCKETS = 60, 100_000


class DirtyRefresher:
    """Refreshes one tier's dirty spans at a time, sizing its window from the ones before."""

    def __init__(self, known: KnownSpans) -> None:
        self._known = known
        self._window: dict[str, int] = {}  # buckets per span, by tier

    def refresh(
        self, cur: Cursor, tier: Tier, limit: int, quiet_seconds: float
    ) -> tuple[np.ndarray, int, int]:
        """Inside a transaction: the series worked on (none: nothing is dirty, or all that
        is waits for its series to go quiet), and the change in the tier's points and rows.

        Takes the `limit` spans that start first and recomputes, for each, a window from its
        first bucket; the span then starts after the window, and goes once it is empty. A
        backfilled month is one span per series, worked through window by window."""
        began = time.monotonic()
        table, r, name = table_of(tier), tier.resolution_us, tier.name
        buckets = self._window.get(name, FIRST_WINDOW)
        busy = self._known.still_busy(name, quiet_seconds, REFRESH_WAIT_AT_MOST)
        cur.register("busy", {"series_id": busy})
        try:
            spans = cur.execute(
                "SELECT series_id, lo_us, hi_us FROM rollup_dirty_spans WHERE tier = $tier"
                " AND series_id NOT IN (SELECT series_id FROM busy)"
                " ORDER BY lo_us LIMIT $limit",
                {"tier": name, "limit": limit},
            ).fetchnumpy()
        finally:
            cur.unregister("busy")
        ids = spans["series_id"].astype(np.int64)
        if not len(ids):
            return ids, 0, 0
        lo, hi = spans["lo_us"].astype(np.int64), spans["hi_us"].astype(np.int64)
        # Only buckets before the watermark are marked, and none after it may be written.
        end = np.minimum(hi + r, lo + buckets * r)
        cur.register("todo", {"series_id": ids, "lo": lo, "end": end})
        # The constant bounds let zone maps skip row groups; the join alone scans them all.
        bounds = {"first": int(lo.min()), "end": int(end.max())}
        mine = (
            "t.series_id = todo.series_id AND t.bucket_us >= todo.lo AND t.bucket_us < todo.end"
            " AND t.bucket_us >= $first AND t.bucket_us < $end"
        )
        try:
            # RETURNING gives the change in points and rows without scanning the tier again
            # (a backfill's rows are not in bucket order: zone maps skip little).
            gone = cur.execute(
                f"DELETE FROM {table} t USING todo WHERE {mine} RETURNING t.count", bounds
            ).fetchnumpy()["count"]
            source = """
                SELECT p.series_id, p.ts, p.value FROM points p JOIN todo
                ON p.series_id = todo.series_id
                AND p.ts >= make_timestamp(todo.lo) AND p.ts < make_timestamp(todo.end)
                WHERE p.ts >= make_timestamp($first) AND p.ts < make_timestamp($end)
            """
            made = cur.execute(
                f"INSERT INTO {table} {rollup_sql(r, source)} RETURNING count", bounds
            ).fetchnumpy()["count"]
            cur.execute(
                "UPDATE rollup_dirty_spans d SET lo_us = todo.end FROM todo"
                " WHERE d.tier = $tier AND d.series_id = todo.series_id",
                {"tier": name},
            )
            cur.execute(
                "DELETE FROM rollup_dirty_spans WHERE tier = $tier AND lo_us > hi_us",
                {"tier": name},
            )
        finally:
            cur.unregister("todo")
        took = time.monotonic() - began
        # Never under FIRST_WINDOW: a large backfill's refresh costs its scans whatever the
        # window (its points are not in time order), so halving the window toward one
        # bucket only multiplied the refreshes (1,000 series x a week: over 40 minutes).
        self._window[name] = next_slice(
            buckets, took, REFRESH_SECONDS, FIRST_WINDOW, MAX_WINDOW_BUCKETS
        )
        return ids, int(made.sum()) - int(gone.sum()), len(made) - len(gone)
