"""The statements of each layout step after 1, frozen as they were released: `schema.py`
describes the current layout and evolves, history does not (migrations.py runs them)."""

from __future__ import annotations

import json

from domain.system.model import link
from domain.system.read_models import AuditEntry
from infra.stores.duckdb.runner import Cursor

__all__ = [
    "ANALYTICS_JOBS",
    "ANOMALIES_AND_INCIDENTS",
    "DASHBOARDS_AND_NOTIFICATIONS",
    "METRIC_DESCRIPTIONS",
    "ONE_POINT_PER_KEY",
    "chained_audit",
    "hot_and_compacted_points",
]


# Layout 2: dashboards (decision 0008) and notifications (decision 0009).
DASHBOARDS_AND_NOTIFICATIONS = (
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
    """
    CREATE TABLE IF NOT EXISTS notification_channels (
        id              VARCHAR PRIMARY KEY,
        project         VARCHAR NOT NULL,
        created_at_us   BIGINT NOT NULL,
        version         BIGINT NOT NULL,
        doc             VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS notification_policies (
        project     VARCHAR PRIMARY KEY,
        version     BIGINT NOT NULL,
        doc         VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS notification_silences (
        id          VARCHAR PRIMARY KEY,
        project     VARCHAR NOT NULL,
        created_us  BIGINT NOT NULL,
        doc         VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS notification_deliveries (
        id              VARCHAR PRIMARY KEY,
        project         VARCHAR NOT NULL,
        channel_id      VARCHAR NOT NULL,
        state           VARCHAR NOT NULL,
        next_attempt_us BIGINT NOT NULL,
        claimed_by      VARCHAR NOT NULL,
        claim_until_us  BIGINT NOT NULL,
        created_us      BIGINT NOT NULL,
        doc             VARCHAR NOT NULL
    )
    """,
)

# Layout 3: metric descriptions (Prometheus type and help, OTLP unit and description; issue 16).
METRIC_DESCRIPTIONS = (
    """
    CREATE TABLE IF NOT EXISTS metric_descriptions (
        project     VARCHAR NOT NULL,
        name        VARCHAR NOT NULL,
        type        VARCHAR NOT NULL,
        help        VARCHAR NOT NULL,
        unit        VARCHAR NOT NULL,
        updated_at  TIMESTAMP NOT NULL,
        PRIMARY KEY (project, name)
    )
    """,
)

# Layout 4: analytics jobs and their result items (infra/stores/duckdb/analytics.py).
ANALYTICS_JOBS = (
    """
    CREATE TABLE IF NOT EXISTS analytics_jobs (
        id                  VARCHAR PRIMARY KEY,
        project             VARCHAR NOT NULL,
        kind                VARCHAR NOT NULL,
        state               VARCHAR NOT NULL,
        input               VARCHAR NOT NULL,
        created_us          BIGINT NOT NULL,
        created_by          VARCHAR NOT NULL,
        timeout_us          BIGINT NOT NULL,
        progress            DOUBLE NOT NULL,
        phase               VARCHAR NOT NULL,
        started_us          BIGINT,
        finished_us         BIGINT,
        error               VARCHAR,
        attempt             INTEGER NOT NULL,
        owner               VARCHAR NOT NULL,
        cancel_requested    BOOLEAN NOT NULL,
        expires_us          BIGINT,
        result_count        INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS analytics_results (
        job_id      VARCHAR NOT NULL,
        attempt     INTEGER NOT NULL,
        seq         INTEGER NOT NULL,
        doc         VARCHAR NOT NULL,
        PRIMARY KEY (job_id, attempt, seq)
    )
    """,
)

# Layout 5: the audit trail grows (role, target, changes, client) and is chained by hash;
# compliance keeps checkpoints, access seen, reviews, revocations and check runs.
_AUDIT_V3 = """
    CREATE TABLE audit_v3 (
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
"""
_COMPLIANCE = (
    """
    CREATE TABLE IF NOT EXISTS audit_checkpoints (
        project     VARCHAR NOT NULL,
        chain_index BIGINT NOT NULL,
        hash        VARCHAR NOT NULL,
        at_us       BIGINT NOT NULL,
        key_id      VARCHAR NOT NULL,
        signature   VARCHAR NOT NULL,
        PRIMARY KEY (project, chain_index)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS access_usage (
        project     VARCHAR NOT NULL,
        subject     VARCHAR NOT NULL,
        doc         VARCHAR NOT NULL,
        PRIMARY KEY (project, subject)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS access_reviews (
        id          VARCHAR PRIMARY KEY,
        project     VARCHAR NOT NULL,
        started_us  BIGINT NOT NULL,
        version     BIGINT NOT NULL,
        doc         VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS revocations (
        project     VARCHAR NOT NULL,
        kind        VARCHAR NOT NULL,
        value       VARCHAR NOT NULL,
        at_us       BIGINT NOT NULL,
        doc         VARCHAR NOT NULL,
        PRIMARY KEY (project, kind, value)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS compliance_runs (
        project         VARCHAR NOT NULL,
        slot            VARCHAR NOT NULL,
        owner           VARCHAR NOT NULL,
        claim_until_us  BIGINT NOT NULL,
        finished_us     BIGINT,
        doc             VARCHAR NOT NULL,
        PRIMARY KEY (project, slot)
    )
    """,
)


def chained_audit(cur: Cursor) -> None:
    """Rebuild the audit table with the new columns, the entries written before chains
    existed chained in the order they were written (`seq`): from now on, changing one of
    them shows. A rebuild, not ALTER and UPDATE: DuckDB builds no index over rows updated
    in the same transaction, and the step is one transaction."""
    columns = {
        name
        for (name,) in cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'audit'"
        ).fetchall()
    }
    if "chain_index" not in columns:  # not rebuilt yet
        rows = cur.execute(
            "SELECT seq, actor, action, project, outcome, epoch_us(ts), request_id, detail"
            " FROM audit ORDER BY seq"
        ).fetchall()
        heads: dict[str, tuple[int, str]] = {}
        sealed = []
        for seq, actor, action, project, outcome, ts, request_id, detail in rows:
            old = AuditEntry(actor, action, project, outcome, ts, request_id, json.loads(detail))
            entry = link(old, heads.get(project))
            heads[project] = (entry.chain_index, entry.hash)
            sealed.append((seq, entry.chain_index, entry.prev_hash, entry.hash))
        cur.execute(
            "CREATE TEMP TABLE sealed AS SELECT unnest($seqs::BIGINT[]) AS seq,"
            " unnest($idx::BIGINT[]) AS n, unnest($prev::VARCHAR[]) AS p,"
            " unnest($hash::VARCHAR[]) AS h",
            {
                "seqs": [s[0] for s in sealed],
                "idx": [s[1] for s in sealed],
                "prev": [s[2] for s in sealed],
                "hash": [s[3] for s in sealed],
            },
        )
        cur.execute(_AUDIT_V3)
        cur.execute(
            "INSERT INTO audit_v3 SELECT a.seq, a.actor, a.action, a.project, a.outcome, a.ts,"
            " a.request_id, a.detail, '', '{}', '[]', '', s.n, s.p, s.h"
            " FROM audit a JOIN sealed s ON a.seq = s.seq"
        )
        cur.execute("DROP TABLE sealed")
        cur.execute("DROP TABLE audit")
        cur.execute("ALTER TABLE audit_v3 RENAME TO audit")
    cur.execute("CREATE UNIQUE INDEX IF NOT EXISTS audit_chain ON audit (project, chain_index)")
    for statement in _COMPLIANCE:
        cur.execute(statement)


# Layout 6: one point per (series, timestamp) (decision 0021). The
# writer replaces a point stored again from now on; points stored twice before are reduced
# to the one stored last (`points` was append-only, so `rowid` follows the order of
# insertion). No table changes: a new store has nothing to reduce.
ONE_POINT_PER_KEY = (
    """
    DELETE FROM points p
    USING (
        SELECT series_id, ts, max(rowid) AS kept FROM points
        GROUP BY series_id, ts HAVING count(*) > 1
    ) d
    WHERE p.series_id = d.series_id AND p.ts = d.ts AND p.rowid <> d.kept
    """,
)

# Layout 7: anomaly detection (detections, detector states, anomalies, bands) and
# incidents (issue 15).
ANOMALIES_AND_INCIDENTS = (
    """
    CREATE TABLE IF NOT EXISTS anomaly_detections (
        id              VARCHAR PRIMARY KEY,
        project         VARCHAR NOT NULL,
        enabled         BOOLEAN NOT NULL,
        created_at_us   BIGINT NOT NULL,
        version         BIGINT NOT NULL,
        doc             VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS anomaly_detectors (
        key         VARCHAR PRIMARY KEY,
        placement   VARCHAR NOT NULL,
        state       VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS anomalies (
        project     VARCHAR NOT NULL,
        metric      VARCHAR NOT NULL,
        series_id   BIGINT NOT NULL,
        ts_us       BIGINT NOT NULL,
        score       DOUBLE NOT NULL,
        doc         VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS anomaly_bands (
        project     VARCHAR NOT NULL,
        metric      VARCHAR NOT NULL,
        series_id   BIGINT NOT NULL,
        bucket_us   BIGINT NOT NULL,
        tags        VARCHAR NOT NULL,
        baseline    DOUBLE NOT NULL,
        lower       DOUBLE NOT NULL,
        upper       DOUBLE NOT NULL,
        points      INTEGER NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS incidents (
        id          VARCHAR PRIMARY KEY,
        project     VARCHAR NOT NULL,
        state       VARCHAR NOT NULL,
        opened_us   BIGINT NOT NULL,
        version     BIGINT NOT NULL,
        doc         VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS incident_settings (
        project     VARCHAR PRIMARY KEY,
        doc         VARCHAR NOT NULL
    )
    """,
)

# Layout 8: each project's retention policy (infra/stores/duckdb/retention.py).
RETENTION_POLICIES = (
    """
    CREATE TABLE IF NOT EXISTS retention_policies (
        project     VARCHAR PRIMARY KEY,
        version     BIGINT NOT NULL,
        doc         VARCHAR NOT NULL
    )
    """,
)

# Layout 9: points split into a hot table that ingest appends to and a compacted one
# ordered by (series, time), read together through the view `points` (decision 0026).
# The points already stored become the hot table; compaction moves them later.
_COMPACTED_POINTS = """
    CREATE TABLE IF NOT EXISTS points_compacted (
        series_id   BIGINT NOT NULL,
        ts          TIMESTAMP NOT NULL,
        value       DOUBLE NOT NULL
    )
"""
_COMPACTION_SLICES = """
    CREATE TABLE IF NOT EXISTS compaction_slices (
        partition_us    BIGINT PRIMARY KEY
    )
"""
_POINTS_VIEW = """
    CREATE OR REPLACE VIEW points AS
    SELECT series_id, ts, value FROM points_hot
    UNION ALL
    SELECT series_id, ts, value FROM points_compacted
"""


def hot_and_compacted_points(cur: Cursor) -> None:
    tables = {
        name
        for (name,) in cur.execute(
            "SELECT table_name FROM duckdb_tables()"
            " WHERE database_name = current_database() AND schema_name = 'main'"
        ).fetchall()
    }
    if "points_hot" not in tables:
        cur.execute("ALTER TABLE points RENAME TO points_hot")
    cur.execute(_COMPACTED_POINTS)
    cur.execute(_COMPACTION_SLICES)
    cur.execute(_POINTS_VIEW)
