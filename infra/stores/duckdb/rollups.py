"""RollupStore on DuckDB: the 1-minute and 1-hour tiers, their watermarks and dirty spans.

Rows are computed from raw points by one SQL statement per slice (rollup_sql.py) and replace
what was there (DELETE + INSERT in one transaction, so a tier needs no key). Every write
runs on the store's single writer thread, so a rollup never interleaves with an append:
that is what makes `advance` atomic with respect to appends (domain/storage/ports.py).
The writer keeps the watermarks in memory (`Watermarks`), so an append learns in
nanoseconds whether any of its points is late; only late points cost a statement.

Dirty buckets are kept as one span per tier and series (`rollup_dirty_spans`: its first and
last dirty bucket), widened by each late append: a mark is a span, and the buckets between
its ends are recomputed too (they are rows of the same series; cost follows its points).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.storage.rollups import RollupRow
from domain.storage.tiers import ROLLUP_TIERS, Tier
from infra.stores.duckdb.dirty_spans import KnownSpans, SpanPlan, late_spans
from infra.stores.duckdb.overlap import Columns
from infra.stores.duckdb.refresh import DirtyRefresher
from infra.stores.duckdb.rollup_sql import FIELDS, rollup_sql, table_of
from infra.stores.duckdb.runner import Cursor, Runner, transaction

__all__ = ["DuckDBRollupStore", "Watermarks", "mark_dirty"]


class Watermarks:
    """The tiers' watermarks as committed, and how many buckets each has marked dirty.

    Changed on the writer thread only: a watermark once its move has committed, a dirty
    count raised inside the marking transaction and lowered once a refresh has committed,
    so a reader that sees 0 marks or an older watermark reads raw points where it must.
    Readers use them without a transaction: one that runs beside a write answers as
    before it or after it, never with a point missing that was acknowledged before.
    """

    def __init__(self) -> None:
        self.of: dict[str, int] = {}
        self.dirty: dict[str, int] = {}
        # Points and rows rolled up per tier: a tier whose rows hold about one point each
        # is no cheaper to read than raw points (decision 0028).
        self.points: dict[str, int] = {}
        self.rows: dict[str, int] = {}
        self.spans = KnownSpans()  # committed dirty spans, so late appends skip known ones

    def load(self, cur: Cursor) -> None:
        rows = cur.execute("SELECT tier, watermark_us FROM rollup_watermarks").fetchall()
        self.of = {tier.name: 0 for tier in ROLLUP_TIERS} | {t: int(w) for t, w in rows}
        self.count_dirty(cur)
        for tier in ROLLUP_TIERS:
            ((points, count),) = cur.execute(
                f"SELECT coalesce(sum(count), 0), count(*) FROM {table_of(tier)}"
            ).fetchall()
            self.points[tier.name], self.rows[tier.name] = int(points), int(count)

    def points_per_row(self, tier: str) -> float:
        rows = self.rows.get(tier, 0)
        return self.points.get(tier, 0) / rows if rows else 0.0

    def count_dirty(self, cur: Cursor) -> None:
        rows = cur.execute("SELECT tier, count(*) FROM rollup_dirty_spans GROUP BY tier").fetchall()
        self.dirty = {tier.name: 0 for tier in ROLLUP_TIERS} | {t: int(n) for t, n in rows}

    @property
    def highest(self) -> int:
        return max(self.of.values(), default=0)


def mark_dirty(cur: Cursor, watermarks: Watermarks, columns: Columns) -> SpanPlan:
    """Inside an append's transaction: widen the dirty spans of late points' series
    (dirty_spans.py). The usual append (every point newer) costs one comparison; give the
    plan to `watermarks.spans.commit` once the transaction has committed."""
    plan, touched = late_spans(cur, watermarks.of, watermarks.spans, columns)
    for tier, count in touched.items():
        # Raised before the commit: a rollback leaves it too high, which costs a lookup.
        watermarks.dirty[tier] = watermarks.dirty.get(tier, 0) + count
    return plan


def _row(row: Any) -> RollupRow:  # a DuckDB row
    sid, bucket, count, total, low, high, first, first_us, last, last_us, increase = row[:11]
    return RollupRow(
        series_id=int(sid),
        bucket_us=int(bucket),
        count=int(count),
        sum=float(total),
        min=float(low),
        max=float(high),
        first=float(first),
        first_us=int(first_us),
        last=float(last),
        last_us=int(last_us),
        increase=float(increase),
        sketch_keys=tuple(row[11]),
        sketch_counts=tuple(row[12]),
    )


class DuckDBRollupStore:
    """domain/storage/ports.RollupStore on the DuckDB file (see the module docstring)."""

    def __init__(self, runner: Runner, watermarks: Watermarks) -> None:
        self._run = runner
        self._watermarks = watermarks
        self._refresher = DirtyRefresher(watermarks.spans)

    async def watermarks(self) -> dict[str, int]:
        return await self._run.write(lambda _: dict(self._watermarks.of))

    async def advance(self, tier: Tier, to_us: int, *, slice_us: int) -> int:
        table_of(tier)

        def advance(cur: Cursor) -> int:
            new, points, rows = transaction(self._advance)(cur, tier, to_us, slice_us)
            # Committed; set before the writer thread takes the next append.
            marks = self._watermarks
            marks.of[tier.name] = new
            marks.points[tier.name] = marks.points.get(tier.name, 0) + points
            marks.rows[tier.name] = marks.rows.get(tier.name, 0) + rows
            return new

        return await self._run.write(advance)

    async def refresh_dirty(self, tier: Tier, limit: int, *, quiet_seconds: float = 0.0) -> int:
        table_of(tier)

        def refresh(cur: Cursor) -> int:
            marks = self._watermarks
            try:
                done, points, rows = transaction(self._refresher.refresh)(
                    cur, tier, limit, quiet_seconds
                )
            except BaseException:
                marks.spans.forget()  # whatever it did is unknown: remember nothing
                raise
            # Only the series worked on had their spans narrowed (or deleted); the
            # writer runs no append between the commit and this.
            marks.spans.forget_series(tier.name, done)
            if len(done):
                marks.spans.refreshed(tier.name, done)
                marks.count_dirty(cur)  # committed: lowered now
                marks.points[tier.name] = marks.points.get(tier.name, 0) + points
                marks.rows[tier.name] = marks.rows.get(tier.name, 0) + rows
            return len(done)

        return await self._run.write(refresh)

    async def dirty_count(self, tier: Tier) -> int:
        row = await self._run.read(
            lambda cur: cur.execute(
                "SELECT count(*) FROM rollup_dirty_spans WHERE tier = $tier", {"tier": tier.name}
            ).fetchall()
        )
        return int(row[0][0]) if row else 0

    async def roll_up(self, tier: Tier, start_us: int, end_us: int) -> int:
        table_of(tier)
        return await self._run.write(transaction(self._replace), tier, start_us, end_us)

    async def read_rollups(
        self,
        tier: Tier,
        project: str,
        start_us: int,
        end_us: int,
        series_ids: Sequence[int] | None = None,
    ) -> list[RollupRow]:
        table = table_of(tier)

        def read(cur: Cursor) -> list[RollupRow]:
            chosen = (
                "" if series_ids is None else "AND r.series_id IN (SELECT unnest($ids::BIGINT[]))"
            )
            rows = cur.execute(
                f"""
                SELECT {", ".join("r." + f.strip() for f in FIELDS.split(","))}
                FROM {table} r JOIN series s ON s.id = r.series_id AND s.project = $project
                WHERE r.bucket_us >= $start AND r.bucket_us < $end {chosen}
                ORDER BY r.series_id, r.bucket_us
                """,
                {"project": project, "start": start_us, "end": end_us}
                | ({} if series_ids is None else {"ids": list(series_ids)}),
            ).fetchall()
            return [_row(row) for row in rows]

        return await self._run.read(read)

    async def expire_rollups(
        self,
        tier: Tier,
        project: str,
        before_us: int,
        names: Sequence[str] | None,
        exclude_names: Sequence[str],
    ) -> int:
        table = table_of(tier)

        @transaction
        def expire(cur: Cursor) -> int:
            chosen = "" if names is None else "AND name IN (SELECT unnest($names::VARCHAR[]))"
            params: dict[str, object] = {
                "project": project,
                "excluded": list(exclude_names),
                "last": before_us - tier.resolution_us,
                "tier": tier.name,
            } | ({} if names is None else {"names": list(names)})
            series = f"""
                SELECT id FROM series WHERE project = $project {chosen}
                  AND name NOT IN (SELECT unnest($excluded::VARCHAR[]))
            """
            # Spans keep their buckets after the cut; a span wholly before it goes.
            cur.execute(
                f"UPDATE rollup_dirty_spans SET lo_us = $last + {tier.resolution_us}"
                f" WHERE tier = $tier AND lo_us <= $last AND series_id IN ({series})",
                params,
            )
            cur.execute("DELETE FROM rollup_dirty_spans WHERE lo_us > hi_us")
            params.pop("tier")
            rows = cur.execute(
                f"DELETE FROM {table} WHERE bucket_us <= $last AND series_id IN ({series})",
                params,
            ).fetchall()
            return int(rows[0][0]) if rows else 0

        def expire_and_count(cur: Cursor) -> int:
            self._watermarks.spans.forget()
            deleted = expire(cur)
            self._watermarks.count_dirty(cur)
            return deleted

        return await self._run.write(expire_and_count)

    # On the writer thread, inside a transaction:

    def _advance(self, cur: Cursor, tier: Tier, to_us: int, slice_us: int) -> tuple[int, int, int]:
        """The new watermark, and the points and rows rolled up."""
        r = tier.resolution_us
        if to_us % r or slice_us <= 0 or slice_us % r:
            raise ValueError("to_us and slice_us must be multiples of the tier's resolution")
        start = self._watermarks.of.get(tier.name, 0)
        if to_us <= start:
            return start, 0, 0
        if start == 0:
            ((oldest,),) = cur.execute("SELECT epoch_us(min(ts)) FROM points").fetchall()
            if oldest is None or oldest >= to_us:
                self._save(cur, tier, to_us)
                return to_us, 0, 0
            start = int(oldest) // r * r
        end = min(to_us, start + slice_us)
        self._replace(cur, tier, start, end)
        self._save(cur, tier, end)
        ((points, rows),) = cur.execute(
            f"SELECT coalesce(sum(count), 0), count(*) FROM {table_of(tier)}"
            " WHERE bucket_us >= $start AND bucket_us < $end",
            {"start": start, "end": end},
        ).fetchall()
        return end, int(points), int(rows)

    def _replace(self, cur: Cursor, tier: Tier, start_us: int, end_us: int) -> int:
        table = table_of(tier)
        span = {"start": start_us, "end": end_us}
        cur.execute(f"DELETE FROM {table} WHERE bucket_us >= $start AND bucket_us < $end", span)
        source = (
            "SELECT series_id, ts, value FROM points"
            " WHERE ts >= make_timestamp($start) AND ts < make_timestamp($end)"
        )
        rows = cur.execute(
            f"INSERT INTO {table} {rollup_sql(tier.resolution_us, source)}", span
        ).fetchall()
        return int(rows[0][0]) if rows else 0

    @staticmethod
    def _save(cur: Cursor, tier: Tier, watermark_us: int) -> None:
        cur.execute(
            "INSERT OR REPLACE INTO rollup_watermarks VALUES ($tier, $w)",
            {"tier": tier.name, "w": watermark_us},
        )
