"""The current DuckDB layout (docs/decisions/0002-duckdb-layout.md), as a new file gets it.

A file of an older layout is brought here by the steps of migrations.py instead. Changing
anything below takes a new step there and a higher `LAYOUT_VERSION` (decision 0012); the
contract suite checks that a migrated file and a new one hold the same tables.
"""

from __future__ import annotations

from infra.stores.duckdb.analytics import ANALYTICS_SCHEMA
from infra.stores.duckdb.anomalies import ANOMALY_SCHEMA
from infra.stores.duckdb.compaction import POINTS_SCHEMA
from infra.stores.duckdb.compliance import COMPLIANCE_SCHEMA
from infra.stores.duckdb.descriptions import DESCRIPTIONS_TABLE
from infra.stores.duckdb.incidents import INCIDENT_SCHEMA
from infra.stores.duckdb.notifications import NOTIFICATION_SCHEMA
from infra.stores.duckdb.pricing import PRICING_SCHEMA
from infra.stores.duckdb.report_slots import REPORT_SLOTS_SCHEMA
from infra.stores.duckdb.reports import REPORT_SCHEMA
from infra.stores.duckdb.retention import RETENTION_SCHEMA
from infra.stores.duckdb.rollup_sql import ROLLUP_SCHEMA

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
    *POINTS_SCHEMA,  # infra/stores/duckdb/compaction.py (layout 9)
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
        detail      JSON NOT NULL,
        role        VARCHAR NOT NULL DEFAULT '',
        target      JSON NOT NULL DEFAULT '{}',
        changes     JSON NOT NULL DEFAULT '[]',
        client      VARCHAR NOT NULL DEFAULT '',
        chain_index BIGINT NOT NULL DEFAULT 0,
        prev_hash   VARCHAR NOT NULL DEFAULT '',
        hash        VARCHAR NOT NULL DEFAULT ''
    )
    """,
    # Each project's chain (domain/system/model.py): one entry per index, never a fork.
    "CREATE UNIQUE INDEX IF NOT EXISTS audit_chain ON audit (project, chain_index)",
    # Alerting (infra/stores/duckdb/alerts.py). Entities are stored as the JSON text of
    # their `to_dict()` (VARCHAR: the text comes back exactly as written), beside the
    # columns that queries filter and sort on.
    """
    CREATE TABLE IF NOT EXISTS alerts (
        id              VARCHAR PRIMARY KEY,
        project         VARCHAR NOT NULL,
        enabled         BOOLEAN NOT NULL,
        created_at_us   BIGINT NOT NULL,
        version         BIGINT NOT NULL,
        doc             VARCHAR NOT NULL
    )
    """,
    # One row per alert instance; `key` is the JSON text of the instance key (a list of
    # strings), so any key maps to exactly one row.
    """
    CREATE TABLE IF NOT EXISTS alert_instances (
        alert_id    VARCHAR NOT NULL,
        key         VARCHAR NOT NULL,
        state       VARCHAR NOT NULL,
        PRIMARY KEY (alert_id, key)
    )
    """,
    # Append-only, no key. `(seq, n)` is the order of recording: `seq` is drawn once per
    # append call, `n` is the position within it; it orders transitions of the same `at_us`.
    "CREATE SEQUENCE IF NOT EXISTS alert_transition_seq START 1",
    """
    CREATE TABLE IF NOT EXISTS alert_transitions (
        seq         BIGINT NOT NULL,
        n           INTEGER NOT NULL,
        alert_id    VARCHAR NOT NULL,
        at_us       BIGINT NOT NULL,
        doc         VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS leases (
        name            VARCHAR PRIMARY KEY,
        owner           VARCHAR NOT NULL,
        expires_at_us   BIGINT NOT NULL
    )
    """,
    # Dashboards (infra/stores/duckdb/dashboards.py): the current document of each, and
    # every saved version (history and restore), each the JSON text of Dashboard.to_dict().
    """
    CREATE TABLE IF NOT EXISTS dashboards (
        project         VARCHAR NOT NULL,
        id              VARCHAR NOT NULL,
        created_at_us   BIGINT NOT NULL,
        version         BIGINT NOT NULL,
        doc             VARCHAR NOT NULL,
        PRIMARY KEY (project, id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS dashboard_versions (
        project     VARCHAR NOT NULL,
        id          VARCHAR NOT NULL,
        version     BIGINT NOT NULL,
        doc         VARCHAR NOT NULL,
        PRIMARY KEY (project, id, version)
    )
    """,
    *NOTIFICATION_SCHEMA,  # infra/stores/duckdb/notifications.py
    # What senders say about metric names (infra/stores/duckdb/descriptions.py).
    DESCRIPTIONS_TABLE,
    *ANALYTICS_SCHEMA,  # infra/stores/duckdb/analytics.py
    *COMPLIANCE_SCHEMA,  # infra/stores/duckdb/compliance.py
    *ROLLUP_SCHEMA,  # infra/stores/duckdb/rollup_sql.py
    *ANOMALY_SCHEMA,  # infra/stores/duckdb/anomalies.py (layout 3)
    *INCIDENT_SCHEMA,  # infra/stores/duckdb/incidents.py (layout 3)
    *RETENTION_SCHEMA,  # infra/stores/duckdb/retention.py (layout 8)
    *PRICING_SCHEMA,  # infra/stores/duckdb/pricing.py (layout 12)
    *REPORT_SCHEMA,  # infra/stores/duckdb/reports.py (layout 13)
    *REPORT_SLOTS_SCHEMA,  # infra/stores/duckdb/report_slots.py (layout 14)
)
