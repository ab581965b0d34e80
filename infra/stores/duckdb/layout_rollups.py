"""Layout 10's statements, frozen as released (beside layout_steps.py, which holds the
earlier steps): the rollup tiers' tables."""

from __future__ import annotations

__all__ = ["DIRTY_SPANS", "ROLLUP_TIERS"]

# Layout 10: the 1-minute and 1-hour rollup tiers, their watermarks and dirty marks
# (decision 0028).
_ROLLUP_COLUMNS = """
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
ROLLUP_TIERS = (
    f"CREATE TABLE IF NOT EXISTS rollup_1m ({_ROLLUP_COLUMNS})",
    f"CREATE TABLE IF NOT EXISTS rollup_1h ({_ROLLUP_COLUMNS})",
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

# Layout 11: dirty buckets as one span per tier and series (decision 0028); the marks of
# layout 10 become their series' spans.
DIRTY_SPANS = (
    """
    CREATE TABLE IF NOT EXISTS rollup_dirty_spans (
        tier            VARCHAR NOT NULL,
        series_id       BIGINT NOT NULL,
        lo_us           BIGINT NOT NULL,
        hi_us           BIGINT NOT NULL,
        PRIMARY KEY (tier, series_id)
    )
    """,
    """
    INSERT INTO rollup_dirty_spans
    SELECT tier, series_id, min(bucket_us), max(bucket_us) FROM rollup_dirty GROUP BY ALL
    """,
    "DROP TABLE rollup_dirty",
)
