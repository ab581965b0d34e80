"""The SQL of the rollup tiers on DuckDB: their tables, and one row per series and bucket
computed from raw points as domain/storage/rollups.rollup_of computes it."""

from __future__ import annotations

from domain.storage.sketch import LN_GAMMA, OFFSET
from domain.storage.tiers import ROLLUP_TIERS, Tier

__all__ = ["DIRTY_SPANS", "FIELDS", "ROLLUP_SCHEMA", "key_sql", "rollup_sql", "table_of"]

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
# Layout 11: one span of dirty buckets per tier and series (decision 0028), not a row per
# bucket: a backfilled month marked 4.3M keys, whose index made a refresh's commit hold
# DuckDB's transaction lock for over 30 s while every query waited.
DIRTY_SPANS = """
    CREATE TABLE IF NOT EXISTS rollup_dirty_spans (
        tier            VARCHAR NOT NULL,
        series_id       BIGINT NOT NULL,
        lo_us           BIGINT NOT NULL,
        hi_us           BIGINT NOT NULL,
        PRIMARY KEY (tier, series_id)
    )
"""
# Decision 0028. No key on the tiers: a bucket is replaced by DELETE + INSERT in one
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
    DIRTY_SPANS,
)

FIELDS = (
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
        SELECT {FIELDS} FROM stats JOIN bins USING (series_id, bucket_us)
    """
