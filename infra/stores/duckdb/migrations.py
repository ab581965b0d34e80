"""Layout versions of the DuckDB file, and the ordered steps that bring an older file up to date.

The file records the layout it holds in `vigil_layout`, one row per step applied (the
highest is the current layout). At open, `migrate` compares it with `LAYOUT_VERSION`:

- no Vigil table at all: a new file, created at `LAYOUT_VERSION` directly (`SCHEMA`);
- Vigil tables but no `vigil_layout`: a file written before layouts had versions, which
  is layout 1 (series, points, ingest keys, audit, alerting);
- an older layout: each step of `MIGRATIONS` after it runs in a transaction of its own,
  with the row that records it, so a crash leaves the file at the last finished step;
- a newer layout: refused, and nothing is written (docs/decisions/0012).

A step's statements are frozen copies of the layout it produced: `SCHEMA` describes the
current layout and evolves, history does not. Every step is idempotent (`IF NOT EXISTS`),
so a file that already has part of it (one written by an unreleased build) takes it too.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

import duckdb

from domain.errors import Unavailable
from domain.system.model import link
from domain.system.read_models import AuditEntry
from infra.stores.duckdb.runner import Cursor
from infra.stores.duckdb.schema import SCHEMA

__all__ = [
    "LAYOUT_VERSION",
    "MIGRATIONS",
    "NEW_STORE",
    "Migration",
    "layout_version",
    "migrate",
    "newer_layout",
]

log = logging.getLogger("vigil.store.duckdb")

LAYOUT_VERSION = 6

LAYOUT_TABLE = "vigil_layout"
_CREATE_LAYOUT_TABLE = f"""
    CREATE TABLE IF NOT EXISTS {LAYOUT_TABLE} (
        version     INTEGER PRIMARY KEY,
        name        VARCHAR NOT NULL,
        applied_at  TIMESTAMP NOT NULL
    )
"""
_RECORD = f"""
    INSERT INTO {LAYOUT_TABLE} VALUES ($version, $name, make_timestamp($now_us))
    ON CONFLICT DO NOTHING
"""
# Any of these means the file holds layout 1 or later.
_LAYOUT_1_TABLES = frozenset(
    {
        "series",
        "points",
        "ingest_keys",
        "audit",
        "alerts",
        "alert_instances",
        "alert_transitions",
        "leases",
    }
)


@dataclass(frozen=True, slots=True)
class Migration:
    """One step: from layout `version - 1` to `version`."""

    version: int
    name: str
    apply: Callable[[Cursor], None]


def _run_all(statements: tuple[str, ...]) -> Callable[[Cursor], None]:
    def apply(cur: Cursor) -> None:
        for statement in statements:
            cur.execute(statement)

    return apply


# Layout 2: dashboards (decision 0008) and notifications (decision 0009).
_DASHBOARDS_AND_NOTIFICATIONS = (
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
_METRIC_DESCRIPTIONS = (
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
_ANALYTICS_JOBS = (
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


def _chained_audit(cur: Cursor) -> None:
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


# Layout 6: one point per (series, timestamp) (decision draft-mongodb-write-path). The
# writer replaces a point stored again from now on; points stored twice before are reduced
# to the one stored last (`points` was append-only, so `rowid` follows the order of
# insertion). No table changes: a new store has nothing to reduce.
_ONE_POINT_PER_KEY = (
    """
    DELETE FROM points p
    USING (
        SELECT series_id, ts, max(rowid) AS kept FROM points
        GROUP BY series_id, ts HAVING count(*) > 1
    ) d
    WHERE p.series_id = d.series_id AND p.ts = d.ts AND p.rowid <> d.kept
    """,
)

# In order, one per version after 1: MIGRATIONS[i] makes layout i + 2. A new store skips
# them all and gets the current layout at once (NEW_STORE).
MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, "dashboards and notifications", _run_all(_DASHBOARDS_AND_NOTIFICATIONS)),
    Migration(3, "metric descriptions", _run_all(_METRIC_DESCRIPTIONS)),
    Migration(4, "analytics jobs", _run_all(_ANALYTICS_JOBS)),
    Migration(5, "chained audit trail and compliance", _chained_audit),
    Migration(6, "one point per series and timestamp", _run_all(_ONE_POINT_PER_KEY)),
)
NEW_STORE = Migration(LAYOUT_VERSION, f"new store at layout {LAYOUT_VERSION}", _run_all(SCHEMA))


def newer_layout(found: int) -> Unavailable:
    return Unavailable(
        f"the store was written by a newer Vigil (layout {found},"
        f" this build knows {LAYOUT_VERSION}); upgrade Vigil"
    )


def layout_version(cur: Cursor) -> int:
    """The layout the file holds: 0 for a file with no Vigil table."""
    rows = cur.execute(
        "SELECT table_name FROM duckdb_tables()"
        " WHERE database_name = current_database() AND schema_name = 'main'"
    ).fetchall()
    tables = {name for (name,) in rows}
    if LAYOUT_TABLE in tables:
        (latest,) = cur.execute(f"SELECT max(version) FROM {LAYOUT_TABLE}").fetchall()[0]
        if latest is not None:
            return int(latest)
    return 1 if tables & _LAYOUT_1_TABLES else 0


def migrate(cur: Cursor) -> list[Migration]:
    """Bring the file to `LAYOUT_VERSION`; the steps applied, none when it already was.

    Raises `Unavailable`, having written nothing, when the file's layout is newer.
    """
    found = layout_version(cur)
    if found > LAYOUT_VERSION:
        raise newer_layout(found)
    steps = [NEW_STORE] if found == 0 else [m for m in MIGRATIONS if m.version > found]
    for step in steps:
        cur.begin()
        try:
            cur.execute(_CREATE_LAYOUT_TABLE)
            step.apply(cur)
            now_us = time.time_ns() // 1000  # UTC, as every timestamp of the file
            cur.execute(_RECORD, {"version": step.version, "name": step.name, "now_us": now_us})
            cur.commit()
        except BaseException:
            with suppress(duckdb.Error):
                cur.rollback()
            raise
        log.info("DuckDB: store layout %d -> %d (%s)", found, step.version, step.name)
        found = step.version
    return steps
