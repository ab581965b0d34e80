"""DashboardStore on DuckDB: the current dashboards and every saved version, in one file.

A save is one transaction on the writer thread (this object is the file's only writer:
DuckDBDatabase), so its version check and its history row are seen together or not at all.
Dashboards are kept as the JSON text of `Dashboard.to_dict()`.
"""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

import duckdb

from domain.dashboards.dashboard import Dashboard
from infra.stores.duckdb.faults import commit
from infra.stores.duckdb.runner import Cursor, Runner

__all__ = ["DuckDBDashboardStore"]

_INSERT = """
    INSERT INTO dashboards (project, id, created_at_us, version, doc)
    VALUES ($project, $id, $created_at_us, $version, $doc)
    ON CONFLICT DO NOTHING
    RETURNING id
"""
_COMPARE_AND_SET = """
    UPDATE dashboards SET version = $version, doc = $doc
    WHERE project = $project AND id = $id AND version = $expected
    RETURNING id
"""
_KEEP_VERSION = """
    INSERT INTO dashboard_versions (project, id, version, doc)
    VALUES ($project, $id, $version, $doc)
"""


class DuckDBDashboardStore:
    """The DashboardStore port (domain.dashboards.ports) on the embedded store."""

    def __init__(self, runner: Runner) -> None:
        self._run = runner

    async def save_dashboard(
        self, dashboard: Dashboard, *, expected_version: int | None = None
    ) -> bool:
        return await self._run.write(_save, dashboard, expected_version)

    async def get_dashboard(self, project: str, dashboard_id: str) -> Dashboard | None:
        found = await self._run.read(
            _docs,
            "SELECT doc FROM dashboards WHERE project = $project AND id = $id",
            {"project": project, "id": dashboard_id},
        )
        return found[0] if found else None

    async def list_dashboards(self, project: str) -> list[Dashboard]:
        return await self._run.read(
            _docs,
            "SELECT doc FROM dashboards WHERE project = $project ORDER BY created_at_us, id",
            {"project": project},
        )

    async def delete_dashboard(self, project: str, dashboard_id: str) -> bool:
        return await self._run.write(_delete, project, dashboard_id)

    async def list_versions(
        self, project: str, dashboard_id: str, *, first: int = 100
    ) -> list[Dashboard]:
        if first <= 0:
            return []
        return await self._run.read(
            _docs,
            """SELECT doc FROM dashboard_versions WHERE project = $project AND id = $id
               ORDER BY version DESC LIMIT $first""",
            {"project": project, "id": dashboard_id, "first": first},
        )

    async def get_version(self, project: str, dashboard_id: str, version: int) -> Dashboard | None:
        found = await self._run.read(
            _docs,
            """SELECT doc FROM dashboard_versions
               WHERE project = $project AND id = $id AND version = $version""",
            {"project": project, "id": dashboard_id, "version": version},
        )
        return found[0] if found else None


def _docs(cur: Cursor, sql: str, params: dict[str, Any]) -> list[Dashboard]:
    return [Dashboard.from_dict(json.loads(doc)) for (doc,) in cur.execute(sql, params).fetchall()]


def _save(cur: Cursor, dashboard: Dashboard, expected_version: int | None) -> bool:
    params: dict[str, Any] = {
        "project": dashboard.project,
        "id": dashboard.id,
        "version": dashboard.version,
        "doc": json.dumps(dashboard.to_dict(), separators=(",", ":")),
    }
    cur.begin()
    try:
        if expected_version is None:
            saved = cur.execute(
                _INSERT, params | {"created_at_us": dashboard.created_at_us}
            ).fetchall()
        else:
            saved = cur.execute(
                _COMPARE_AND_SET, params | {"expected": expected_version}
            ).fetchall()
        if saved:
            cur.execute(_KEEP_VERSION, params)
        commit(cur)
    except BaseException:
        with suppress(duckdb.Error):
            cur.rollback()
        raise
    return bool(saved)


def _delete(cur: Cursor, project: str, dashboard_id: str) -> bool:
    params = {"project": project, "id": dashboard_id}
    cur.begin()
    try:
        deleted = cur.execute(
            "DELETE FROM dashboards WHERE project = $project AND id = $id RETURNING id", params
        ).fetchall()
        cur.execute("DELETE FROM dashboard_versions WHERE project = $project AND id = $id", params)
        commit(cur)
    except BaseException:
        with suppress(duckdb.Error):
            cur.rollback()
        raise
    return bool(deleted)
