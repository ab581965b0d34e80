"""Retention on DuckDB: each project's policy (one row, its document as JSON text), and the
deletion of expired raw points and idempotency keys.

Raw points are deleted by `delete_raw_points`, the one function that knows where raw
points live (the merger points it at the hot table and the compacted partitions), one
time slice per transaction on the writer thread: between two slices the writer takes the
batches that wait, so ingest is never held up by more than one slice's delete. Slices
start at the oldest point of the selected series (a store with little to delete costs
one read and one short delete) and are sized for about SLICE_ROWS points each from the
rate the previous slice found (one hour first; a minute to a week).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import suppress

import duckdb

from domain.storage.retention.model import RetentionPolicy
from infra.stores.duckdb import compaction
from infra.stores.duckdb.catalogue import SeriesCatalogue
from infra.stores.duckdb.dirty_spans import KnownSpans
from infra.stores.duckdb.faults import commit
from infra.stores.duckdb.runner import Cursor, Runner, transaction

__all__ = ["RETENTION_SCHEMA", "DuckDBRetentionStore", "delete_raw_points"]

# Layout 8 (migrations.py holds the frozen copy in layout_steps.py).
RETENTION_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS retention_policies (
        project     VARCHAR PRIMARY KEY,
        version     BIGINT NOT NULL,
        doc         VARCHAR NOT NULL
    )
    """,
)

SLICE_US = 3_600_000_000  # the first slice: one hour of points
SLICE_ROWS = 50_000  # then slices are sized for about this many points each
MIN_SLICE_US, MAX_SLICE_US = 60_000_000, 7 * 86_400_000_000
MAX_SERIES_PER_DELETE = 10_000  # series ids bound into one statement

_OLDEST = """
    SELECT epoch_us(min(ts)) FROM points
    WHERE ts < make_timestamp($before) AND series_id IN (SELECT unnest($ids::BIGINT[]))
"""


@transaction
def delete_raw_points(cur: Cursor, series_ids: Sequence[int], lo_us: int, hi_us: int) -> int:
    """Delete the raw points of `series_ids` in [lo_us, hi_us), from the hot and the compacted
    table (decision 0026); how many. One transaction."""
    return compaction.delete_raw_points(cur, series_ids, lo_us, hi_us)


@transaction
def _delete_keys(cur: Cursor, before_us: int) -> int:
    found = cur.execute(
        "DELETE FROM ingest_keys WHERE created_at < make_timestamp($before)",
        {"before": before_us},
    ).fetchall()
    return int(found[0][0]) if found else 0


class DuckDBRetentionStore:
    """The RetentionPolicyStore and PointExpiry ports (domain.storage.retention.ports)."""

    def __init__(
        self,
        runner: Runner,
        catalogue: SeriesCatalogue,
        *,
        slice_us: int = SLICE_US,
        spans: KnownSpans | None = None,
    ):
        self._run = runner
        self._catalogue = catalogue
        self._slice_us = slice_us
        self._spans = spans or KnownSpans()  # the writer's; a deletion narrows spans

    async def get_retention_policy(self, project: str) -> RetentionPolicy | None:
        rows = await self._run.read(
            lambda cur: cur.execute(
                "SELECT doc FROM retention_policies WHERE project = $p", {"p": project}
            ).fetchall()
        )
        return RetentionPolicy.from_dict(json.loads(rows[0][0])) if rows else None

    async def save_retention_policy(
        self, policy: RetentionPolicy, *, expected_version: int
    ) -> bool:
        return await self._run.write(_save, policy, expected_version)

    async def retention_policies(self) -> list[RetentionPolicy]:
        every = "SELECT doc FROM retention_policies ORDER BY project"
        rows = await self._run.read(lambda cur: cur.execute(every).fetchall())
        return [RetentionPolicy.from_dict(json.loads(doc)) for (doc,) in rows]

    async def point_projects(self) -> list[str]:
        return self._catalogue.projects()

    async def point_names(self, project: str) -> list[str]:
        return self._catalogue.names(project, limit=2**62)

    async def expire_points(
        self,
        project: str,
        before_us: int,
        names: Sequence[str] | None,
        exclude_names: Sequence[str],
    ) -> int:
        excluded = set(exclude_names)
        if names is None:
            specs = self._catalogue.select(project, None)
        else:
            specs = [s for name in set(names) for s in self._catalogue.select(project, name)]
        ids = sorted(s.id for s in specs if s.name not in excluded)
        deleted = 0
        for start in range(0, len(ids), MAX_SERIES_PER_DELETE):
            chunk = ids[start : start + MAX_SERIES_PER_DELETE]
            deleted += await self._expire_series(chunk, before_us)
        return deleted

    async def expire_ingest_keys(self, before_us: int) -> int:
        return await self._run.write(_delete_keys, before_us)

    async def _expire_series(self, ids: list[int], before_us: int) -> int:
        oldest = await self._run.read(
            lambda cur: cur.execute(_OLDEST, {"before": before_us, "ids": ids}).fetchall()
        )
        lo = oldest[0][0] if oldest else None
        if lo is None:
            return 0
        deleted, width = 0, self._slice_us
        lo = int(lo)
        while lo < before_us:
            hi = min(lo + width, before_us)
            gone = await self._run.write(self._delete, ids, lo, hi)
            deleted += gone
            # The next slice holds about SLICE_ROWS points at the rate this one had.
            width = round(width * SLICE_ROWS / max(gone, 1))
            width = min(max(width, MIN_SLICE_US), MAX_SLICE_US, 4 * (hi - lo))
            lo = hi
        return deleted

    def _delete(self, cur: Cursor, ids: list[int], lo_us: int, hi_us: int) -> int:
        self._spans.forget()
        return delete_raw_points(cur, ids, lo_us, hi_us)


def _save(cur: Cursor, policy: RetentionPolicy, expected_version: int) -> bool:
    doc = json.dumps(policy.to_dict(), sort_keys=True)
    cur.begin()
    try:
        rows = cur.execute(
            "SELECT version FROM retention_policies WHERE project = $p", {"p": policy.project}
        ).fetchall()
        stored = int(rows[0][0]) if rows else 0
        if stored != expected_version:
            cur.rollback()
            return False
        cur.execute(
            """
            INSERT INTO retention_policies VALUES ($p, $v, $doc)
            ON CONFLICT (project) DO UPDATE SET version = excluded.version, doc = excluded.doc
            """,
            {"p": policy.project, "v": policy.version, "doc": doc},
        )
        commit(cur)
    except BaseException:
        with suppress(duckdb.Error):
            cur.rollback()
        raise
    return True
