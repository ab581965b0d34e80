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

import logging
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass

import duckdb

from domain.errors import Unavailable
from infra.stores.duckdb.layout_cost import COST_PRICING
from infra.stores.duckdb.layout_reports import REPORT_SLOTS, REPORTS
from infra.stores.duckdb.layout_rollups import DIRTY_SPANS, ROLLUP_TIERS
from infra.stores.duckdb.layout_steps import (
    ANALYTICS_JOBS,
    ANOMALIES_AND_INCIDENTS,
    DASHBOARDS_AND_NOTIFICATIONS,
    METRIC_DESCRIPTIONS,
    ONE_POINT_PER_KEY,
    RETENTION_POLICIES,
    chained_audit,
    hot_and_compacted_points,
)
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

LAYOUT_VERSION = 14

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


# In order, one per version after 1: MIGRATIONS[i] makes layout i + 2. A new store skips
# them all and gets the current layout at once (NEW_STORE).
MIGRATIONS: tuple[Migration, ...] = (
    Migration(2, "dashboards and notifications", _run_all(DASHBOARDS_AND_NOTIFICATIONS)),
    Migration(3, "metric descriptions", _run_all(METRIC_DESCRIPTIONS)),
    Migration(4, "analytics jobs", _run_all(ANALYTICS_JOBS)),
    Migration(5, "chained audit trail and compliance", chained_audit),
    Migration(6, "one point per series and timestamp", _run_all(ONE_POINT_PER_KEY)),
    Migration(7, "anomaly detection and incidents", _run_all(ANOMALIES_AND_INCIDENTS)),
    Migration(8, "retention policies", _run_all(RETENTION_POLICIES)),
    Migration(9, "hot and compacted points", hot_and_compacted_points),
    Migration(10, "rollup tiers", _run_all(ROLLUP_TIERS)),
    Migration(11, "dirty spans of the rollup tiers", _run_all(DIRTY_SPANS)),
    Migration(12, "cost pricing", _run_all(COST_PRICING)),
    Migration(13, "reports", _run_all(REPORTS)),
    Migration(14, "report schedule slots", _run_all(REPORT_SLOTS)),
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
