"""Layout 15 of the DuckDB file: usage analytics (a frozen copy; usage.py holds the current
tables)."""

from __future__ import annotations

__all__ = ["USAGE"]

# Layout 15: usage analytics (infra/stores/duckdb/usage.py): minutes counted per series
# and per figure, and the read log.
USAGE = (
    """
    CREATE TABLE IF NOT EXISTS usage_series (
        project     VARCHAR NOT NULL,
        minute_us   BIGINT NOT NULL,
        series_id   BIGINT NOT NULL,
        points      BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS usage_counters (
        project     VARCHAR NOT NULL,
        minute_us   BIGINT NOT NULL,
        figure      VARCHAR NOT NULL,
        value       DOUBLE NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS usage_progress (
        name        VARCHAR PRIMARY KEY,
        minute_us   BIGINT NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS usage_reads (
        project     VARCHAR NOT NULL,
        metric      VARCHAR NOT NULL,
        read_us     BIGINT NOT NULL,
        PRIMARY KEY (project, metric)
    )
    """,
)
