"""ReportStore and ArtefactStore on DuckDB: definitions and runs as JSON text, the files
of runs as BLOBs, in the one file."""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

import duckdb

from domain.reports.document import Artefact
from domain.reports.model import Report, ReportRun
from infra.stores.duckdb.faults import commit
from infra.stores.duckdb.runner import Cursor, Runner

__all__ = ["REPORT_SCHEMA", "DuckDBArtefactStore", "DuckDBReportStore"]

REPORT_SCHEMA = (
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


def _dump(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"))


class DuckDBReportStore:
    """The ReportStore port (domain.reports.ports) on the embedded store."""

    def __init__(self, runner: Runner) -> None:
        self._run = runner

    async def save_report(self, report: Report, *, expected_version: int | None = None) -> bool:
        return await self._run.write(_save_report, report, expected_version)

    async def get_report(self, project: str, report_id: str) -> Report | None:
        found = await self._run.read(
            _reports,
            "SELECT doc FROM reports WHERE project = $project AND id = $id",
            {"project": project, "id": report_id},
        )
        return found[0] if found else None

    async def list_reports(self, project: str | None = None) -> list[Report]:
        if project is None:
            return await self._run.read(
                _reports, "SELECT doc FROM reports ORDER BY created_at_us, id", {}
            )
        return await self._run.read(
            _reports,
            "SELECT doc FROM reports WHERE project = $project ORDER BY created_at_us, id",
            {"project": project},
        )

    async def delete_report(self, project: str, report_id: str) -> bool:
        return await self._run.write(_delete_report, project, report_id)

    async def save_run(self, run: ReportRun) -> None:
        await self._run.write(_save_run, run)

    async def get_run(self, project: str, run_id: str) -> ReportRun | None:
        found = await self._run.read(
            _runs,
            "SELECT doc FROM report_runs WHERE project = $project AND id = $id",
            {"project": project, "id": run_id},
        )
        return found[0] if found else None

    async def get_run_by_id(self, run_id: str) -> ReportRun | None:
        found = await self._run.read(
            _runs, "SELECT doc FROM report_runs WHERE id = $id", {"id": run_id}
        )
        return found[0] if found else None

    async def list_runs(self, project: str, report_id: str) -> list[ReportRun]:
        return await self._run.read(
            _runs,
            """SELECT doc FROM report_runs WHERE project = $project AND report_id = $report
               ORDER BY started_us DESC, id DESC""",
            {"project": project, "report": report_id},
        )


class DuckDBArtefactStore:
    """The ArtefactStore port (domain.reports.ports) on the embedded store: BLOB rows."""

    def __init__(self, runner: Runner) -> None:
        self._run = runner

    async def put_artefacts(self, project: str, run_id: str, artefacts: list[Artefact]) -> None:
        await self._run.write(_put_artefacts, project, run_id, artefacts)

    async def get_artefact(self, project: str, run_id: str, name: str) -> Artefact | None:
        return await self._run.read(_get_artefact, project, run_id, name)

    async def delete_artefacts(self, project: str, run_ids: list[str]) -> int:
        if not run_ids:
            return 0
        return await self._run.write(_delete_artefacts, project, run_ids)


def _reports(cur: Cursor, sql: str, params: dict[str, Any]) -> list[Report]:
    return [Report.from_dict(json.loads(doc)) for (doc,) in cur.execute(sql, params).fetchall()]


def _runs(cur: Cursor, sql: str, params: dict[str, Any]) -> list[ReportRun]:
    return [ReportRun.from_dict(json.loads(d)) for (d,) in cur.execute(sql, params).fetchall()]


def _save_report(cur: Cursor, report: Report, expected_version: int | None) -> bool:
    params: dict[str, Any] = {
        "project": report.project,
        "id": report.id,
        "version": report.version,
        "doc": _dump(report.to_dict()),
    }
    if expected_version is None:
        sql = """INSERT INTO reports (project, id, created_at_us, version, doc)
                 VALUES ($project, $id, $created, $version, $doc)
                 ON CONFLICT DO NOTHING RETURNING id"""
        params["created"] = report.created_at_us
    else:
        sql = """UPDATE reports SET version = $version, doc = $doc
                 WHERE project = $project AND id = $id AND version = $expected RETURNING id"""
        params["expected"] = expected_version
    return bool(cur.execute(sql, params).fetchall())


def _delete_report(cur: Cursor, project: str, report_id: str) -> bool:
    params = {"project": project, "id": report_id}
    cur.begin()
    try:
        deleted = cur.execute(
            "DELETE FROM reports WHERE project = $project AND id = $id RETURNING id", params
        ).fetchall()
        cur.execute("DELETE FROM report_runs WHERE project = $project AND report_id = $id", params)
        commit(cur)
    except BaseException:
        with suppress(duckdb.Error):
            cur.rollback()
        raise
    return bool(deleted)


def _save_run(cur: Cursor, run: ReportRun) -> None:
    cur.execute(
        """INSERT OR REPLACE INTO report_runs (id, project, report_id, started_us, doc)
           VALUES ($id, $project, $report, $started, $doc)""",
        {
            "id": run.id,
            "project": run.project,
            "report": run.report_id,
            "started": run.started_us,
            "doc": _dump(run.to_dict()),
        },
    )


def _put_artefacts(cur: Cursor, project: str, run_id: str, artefacts: list[Artefact]) -> None:
    cur.begin()
    try:
        for a in artefacts:
            cur.execute(
                """INSERT OR REPLACE INTO report_artefacts
                   (project, run_id, name, media_type, content)
                   VALUES ($project, $run, $name, $type, $content)""",
                {
                    "project": project,
                    "run": run_id,
                    "name": a.name,
                    "type": a.media_type,
                    "content": a.content,
                },
            )
        commit(cur)
    except BaseException:
        with suppress(duckdb.Error):
            cur.rollback()
        raise


def _get_artefact(cur: Cursor, project: str, run_id: str, name: str) -> Artefact | None:
    rows = cur.execute(
        """SELECT media_type, content FROM report_artefacts
           WHERE project = $project AND run_id = $run AND name = $name""",
        {"project": project, "run": run_id, "name": name},
    ).fetchall()
    return Artefact(name, rows[0][0], bytes(rows[0][1])) if rows else None


def _delete_artefacts(cur: Cursor, project: str, run_ids: list[str]) -> int:
    rows = cur.execute(
        """DELETE FROM report_artefacts WHERE project = $project AND list_contains($runs, run_id)
           RETURNING name""",
        {"project": project, "runs": run_ids},
    ).fetchall()
    return len(rows)
