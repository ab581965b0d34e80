"""The DuckDB schema (docs/decisions/0002-duckdb-layout.md), created idempotently on open."""

from __future__ import annotations

__all__ = ["SCHEMA"]

SCHEMA = (
    # One row per series; `id` is domain.ingest.series_id, stable across stores and restarts,
    # so a point needs no id of its own: it is named by (series id, timestamp).
    """
    CREATE TABLE IF NOT EXISTS series (
        project     VARCHAR NOT NULL,
        id          BIGINT NOT NULL,
        name        VARCHAR NOT NULL,
        tags        MAP(VARCHAR, VARCHAR) NOT NULL,
        type        VARCHAR NOT NULL,
        category    VARCHAR NOT NULL,
        source      VARCHAR NOT NULL,
        first_seen  TIMESTAMP NOT NULL,
        PRIMARY KEY (project, id)
    )
    """,
    # No key and no index: appends stay one columnar insert, and scans rely on DuckDB's
    # per-row-group min/max of `ts` (points arrive roughly in time order).
    """
    CREATE TABLE IF NOT EXISTS points (
        series_id   BIGINT NOT NULL,
        ts          TIMESTAMP NOT NULL,
        value       DOUBLE NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS ingest_keys (
        project     VARCHAR NOT NULL,
        key         VARCHAR NOT NULL,
        accepted    BIGINT NOT NULL,
        created_at  TIMESTAMP NOT NULL,
        PRIMARY KEY (project, key)
    )
    """,
    "CREATE SEQUENCE IF NOT EXISTS audit_seq START 1",
    """
    CREATE TABLE IF NOT EXISTS audit (
        seq         BIGINT PRIMARY KEY DEFAULT nextval('audit_seq'),
        actor       VARCHAR NOT NULL,
        action      VARCHAR NOT NULL,
        project     VARCHAR NOT NULL,
        outcome     VARCHAR NOT NULL,
        ts          TIMESTAMP NOT NULL,
        request_id  VARCHAR NOT NULL,
        detail      JSON NOT NULL
    )
    """,
)
