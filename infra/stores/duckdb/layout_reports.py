"""Layout 13: report definitions, their runs and the runs' files (infra/stores/duckdb/reports.py).

Frozen copies of the statements that made layout 13 (migrations.py): REPORT_SCHEMA in
reports.py describes the current layout and may move on; this does not."""

from __future__ import annotations

__all__ = ["REPORTS", "REPORT_SLOTS"]

REPORTS = (
    """
    CREATE TABLE IF NOT EXISTS reports (
        project         VARCHAR NOT NULL,
        id              VARCHAR NOT NULL,
        created_at_us   BIGINT NOT NULL,
        version         BIGINT NOT NULL,
        doc             VARCHAR NOT NULL,
        PRIMARY KEY (project, id)
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS report_runs (
        id              VARCHAR PRIMARY KEY,
        project         VARCHAR NOT NULL,
        report_id       VARCHAR NOT NULL,
        started_us      BIGINT NOT NULL,
        doc             VARCHAR NOT NULL
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS report_artefacts (
        project         VARCHAR NOT NULL,
        run_id          VARCHAR NOT NULL,
        name            VARCHAR NOT NULL,
        media_type      VARCHAR NOT NULL,
        content         BLOB NOT NULL,
        PRIMARY KEY (project, run_id, name)
    )
    """,
)


# Layout 14: the slots report schedules claimed, once across instances
# (infra/stores/duckdb/report_slots.py).
REPORT_SLOTS = (
    """
    CREATE TABLE IF NOT EXISTS report_slots (
        project         VARCHAR NOT NULL,
        report_id       VARCHAR NOT NULL,
        slot_us         BIGINT NOT NULL,
        owner           VARCHAR NOT NULL,
        claim_until_us  BIGINT NOT NULL,
        finished_us     BIGINT,
        doc             VARCHAR NOT NULL,
        PRIMARY KEY (project, report_id, slot_us)
    )
    """,
)
