"""RollupStore on DuckDB: the 1-minute and 1-hour tiers, their watermarks and dirty marks.

Rows are computed from raw points by one SQL statement per slice (ROLLUP_SQL) and replace
what was there (DELETE + INSERT in one transaction, so a tier needs no key). Every write
runs on the store's single writer thread, so a rollup never interleaves with an append:
that is what makes `advance` atomic with respect to appends (domain/storage/ports.py).
The writer keeps the watermarks in memory (`Watermarks`), so an append learns in
nanoseconds whether any of its points is late; only late points cost a statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from domain.storage.rollups import RollupRow
from domain.storage.sketch import LN_GAMMA, OFFSET
from domain.storage.tiers import ROLLUP_TIERS, Tier
from infra.stores.duckdb.overlap import Columns
from infra.stores.duckdb.runner import Cursor, Runner, transaction

__all__ = ["ROLLUP_SCHEMA", "DuckDBRollupStore", "Watermarks", "key_sql", "mark_dirty", "table_of"]

ROLLUP_COLUMNS = """
        series_id       BIGINT NOT NULL,
        bucket_us       BIGINT NOT NULL,
        count           BIGINT NOT NULL,
        sum             DOUBLE NOT NULL,
        min             DOUBLE NOT NULL,
        max             DOUBLE NOT NULL,
        first           DOUBLE NOT NULL,
        first_us        BIGINT NOT NULL,
        last            DOUBLE NOT NULL,
        last_us         BIGINT NOT NULL,
        increase        DOUBLE NOT NULL,
        sketch_keys     INTEGER[] NOT NULL,
        sketch_counts   BIGINT[] NOT NULL
"""
# Decision 0025. No key on the tiers: a bucket is replaced by DELETE + INSERT in one
# transaction, and rows arrive in bucket order, so the zone maps of bucket_us prune scans.
ROLLUP_SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS rollup_1m ({ROLLUP_COLUMNS})",
    f"CREATE TABLE IF NOT EXISTS rollup_1h ({ROLLUP_COLUMNS})",
    """
    CREATE TABLE IF NOT EXISTS rollup_watermarks (
        tier            VARCHAR PRIMARY KEY,
        watermark_us    BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS rollup_dirty (
        tier            VARCHAR NOT NULL,
        series_id       BIGINT NOT NULL,
        bucket_us       BIGINT NOT NULL,
        PRIMARY KEY (tier, series_id, bucket_us)
    )
    """,
)

_FIELDS = (
    "series_id, bucket_us, count, sum, min, max, first, first_us, last, last_us, increase,"
    " sketch_keys, sketch_counts"
)


def table_of(tier: Tier) -> str:
    if tier not in ROLLUP_TIERS:
        raise ValueError(f"no rollup table for tier {tier.name!r}")
    return f"rollup_{tier.name}"


def key_sql(value: str) -> str:
    """domain/storage/sketch.py's key formula in SQL (LN_GAMMA parsed as the same double)."""
    ln_gamma = f"'{LN_GAMMA!r}'::DOUBLE"
    return (
        f"CASE WHEN {value} > 0 THEN {OFFSET} + CAST(ceil(ln({value}) / {ln_gamma}) AS INTEGER)"
        f" WHEN {value} < 0 THEN -({OFFSET} + CAST(ceil(ln(-{value}) / {ln_gamma}) AS INTEGER))"
        " ELSE 0 END"
    )


def rollup_sql(resolution_us: int, source: str) -> str:
    """The rows of the points `source` selects (series_id, ts, value), one per series and
    bucket, as domain/storage/rollups.rollup_of computes them."""
    r = resolution_us
    return f"""
        WITH p AS (
            SELECT series_id, epoch_us(ts) AS t, value, epoch_us(ts) // {r} * {r} AS bucket_us
            FROM ({source})
        ), steps AS (
            SELECT series_id, bucket_us, t, value,
                   value - lag(value) OVER (PARTITION BY series_id, bucket_us ORDER BY t) AS d
            FROM p
        ), stats AS (
            SELECT series_id, bucket_us, count(*) AS count, sum(value) AS sum,
                   min(value) AS min, max(value) AS max,
                   arg_min(value, t) AS first, min(t) AS first_us,
                   arg_max(value, t) AS last, max(t) AS last_us,
                   coalesce(sum(CASE WHEN d >= 0 THEN d WHEN d < 0 THEN value END), 0.0)
                       AS increase
            FROM steps GROUP BY series_id, bucket_us
        ), keyed AS (
            SELECT series_id, bucket_us, {key_sql("value")} AS k, count(*) AS c
            FROM p GROUP BY ALL
        ), bins AS (
            SELECT series_id, bucket_us, list(k ORDER BY k) AS sketch_keys,
                   list(c ORDER BY k) AS sketch_counts
            FROM keyed GROUP BY ALL
        )
        SELECT {_FIELDS} FROM stats JOIN bins USING (series_id, bucket_us)
    """


class Watermarks:
    """The tiers' watermarks as committed; read and changed on the writer thread only."""

    def __init__(self) -> None:
        self.of: dict[str, int] = {}

    def load(self, cur: Cursor) -> None:
        rows = cur.execute("SELECT tier, watermark_us FROM rollup_watermarks").fetchall()
        self.of = {tier.name: 0 for tier in ROLLUP_TIERS} | {t: int(w) for t, w in rows}

    @property
    def highest(self) -> int:
        return max(self.of.values(), default=0)


def mark_dirty(cur: Cursor, watermarks: Watermarks, columns: Columns) -> None:
    """Inside an append's transaction: mark the buckets of its points stamped before a
    tier's watermark. The usual append (every point newer) costs one comparison."""
    if not len(columns) or int(columns.ts.min()) >= watermarks.highest:
        return
    ids = np.asarray(columns.series_ids, dtype=np.int64)[columns.slot]
    for tier in ROLLUP_TIERS:
        late = columns.ts < watermarks.of.get(tier.name, 0)
        if not late.any():
            continue
        r = tier.resolution_us
        pairs = np.unique(np.stack([ids[late], columns.ts[late] // r * r]), axis=1)
        cur.register("late", {"series_id": pairs[0], "bucket_us": pairs[1]})
        try:
            cur.execute(
                "INSERT INTO rollup_dirty SELECT $tier, series_id, bucket_us FROM late"
                " ON CONFLICT DO NOTHING",
                {"tier": tier.name},
            )
        finally:
            cur.unregister("late")


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

    async def watermarks(self) -> dict[str, int]:
        return await self._run.write(lambda _: dict(self._watermarks.of))

    async def advance(self, tier: Tier, to_us: int, *, slice_us: int) -> int:
        table_of(tier)

        def advance(cur: Cursor) -> int:
            new = transaction(self._advance)(cur, tier, to_us, slice_us)
            # Committed; set before the writer thread takes the next append.
            self._watermarks.of[tier.name] = new
            return new

        return await self._run.write(advance)

    async def refresh_dirty(self, tier: Tier, limit: int) -> int:
        table_of(tier)
        return await self._run.write(transaction(self._refresh), tier, limit)

    async def dirty_count(self, tier: Tier) -> int:
        row = await self._run.read(
            lambda cur: cur.execute(
                "SELECT count(*) FROM rollup_dirty WHERE tier = $tier", {"tier": tier.name}
            ).fetchone()
        )
        return int(row[0]) if row else 0

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
            chosen = "" if series_ids is None else "AND r.series_id IN (SELECT unnest($ids))"
            rows = cur.execute(
                f"""
                SELECT {", ".join("r." + f.strip() for f in _FIELDS.split(","))}
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
            chosen = "" if names is None else "AND name IN (SELECT unnest($names))"
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
            cur.execute(
                f"DELETE FROM rollup_dirty WHERE tier = $tier AND bucket_us <= $last"
                f" AND series_id IN ({series})",
                params,
            )
            params.pop("tier")
            row = cur.execute(
                f"DELETE FROM {table} WHERE bucket_us <= $last AND series_id IN ({series})",
                params,
            ).fetchone()
            return int(row[0]) if row else 0

        return await self._run.write(expire)

    # On the writer thread, inside a transaction:

    def _advance(self, cur: Cursor, tier: Tier, to_us: int, slice_us: int) -> int:
        r = tier.resolution_us
        if to_us % r or slice_us <= 0 or slice_us % r:
            raise ValueError("to_us and slice_us must be multiples of the tier's resolution")
        start = self._watermarks.of.get(tier.name, 0)
        if to_us <= start:
            return start
        if start == 0:
            (oldest,) = cur.execute("SELECT epoch_us(min(ts)) FROM points").fetchone() or (None,)
            if oldest is None or oldest >= to_us:
                self._save(cur, tier, to_us)
                return to_us
            start = int(oldest) // r * r
        end = min(to_us, start + slice_us)
        self._replace(cur, tier, start, end)
        self._save(cur, tier, end)
        return end

    def _replace(self, cur: Cursor, tier: Tier, start_us: int, end_us: int) -> int:
        table = table_of(tier)
        span = {"start": start_us, "end": end_us}
        cur.execute(f"DELETE FROM {table} WHERE bucket_us >= $start AND bucket_us < $end", span)
        source = (
            "SELECT series_id, ts, value FROM points"
            " WHERE ts >= make_timestamp($start) AND ts < make_timestamp($end)"
        )
        row = cur.execute(
            f"INSERT INTO {table} {rollup_sql(tier.resolution_us, source)}", span
        ).fetchone()
        return int(row[0]) if row else 0

    def _refresh(self, cur: Cursor, tier: Tier, limit: int) -> int:
        table, r = table_of(tier), tier.resolution_us
        todo = cur.execute(
            "SELECT series_id, bucket_us FROM rollup_dirty WHERE tier = $tier"
            " ORDER BY bucket_us, series_id LIMIT $limit",
            {"tier": tier.name, "limit": limit},
        ).fetchnumpy()
        if not len(todo["series_id"]):
            return 0
        sids, buckets = todo["series_id"].astype(np.int64), todo["bucket_us"].astype(np.int64)
        span = {"lo": int(buckets.min()), "hi": int(buckets.max()) + r, "tier": tier.name}
        cur.register("todo", {"series_id": sids, "bucket_us": buckets})
        try:
            cur.execute(
                f"DELETE FROM {table} USING todo"
                f" WHERE {table}.series_id = todo.series_id AND {table}.bucket_us = todo.bucket_us"
            )
            source = f"""
                SELECT p.series_id, p.ts, p.value FROM points p
                SEMI JOIN todo ON p.series_id = todo.series_id
                    AND epoch_us(p.ts) // {r} * {r} = todo.bucket_us
                WHERE p.ts >= make_timestamp($lo) AND p.ts < make_timestamp($hi)
            """
            cur.execute(
                f"INSERT INTO {table} {rollup_sql(r, source)}",
                {"lo": span["lo"], "hi": span["hi"]},
            )
            cur.execute(
                "DELETE FROM rollup_dirty USING todo WHERE rollup_dirty.tier = $tier"
                " AND rollup_dirty.series_id = todo.series_id"
                " AND rollup_dirty.bucket_us = todo.bucket_us",
                {"tier": tier.name},
            )
        finally:
            cur.unregister("todo")
        return len(sids)

    @staticmethod
    def _save(cur: Cursor, tier: Tier, watermark_us: int) -> None:
        cur.execute(
            "INSERT OR REPLACE INTO rollup_watermarks VALUES ($tier, $w)",
            {"tier": tier.name, "w": watermark_us},
        )
