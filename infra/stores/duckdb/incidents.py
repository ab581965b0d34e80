"""IncidentStore on DuckDB: one row per incident (its document as JSON text), and the
grouping settings of each project."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from domain.incidents.model import Incident, IncidentSettings, IncidentState
from infra.stores.duckdb.runner import Cursor, Runner, transaction

__all__ = ["INCIDENT_SCHEMA", "DuckDBIncidentStore"]

# Layout 3 (migrations.py holds the frozen copy).
INCIDENT_SCHEMA = (
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


class DuckDBIncidentStore:
    """The IncidentStore port (domain.incidents.ports) on the embedded store."""

    def __init__(self, runner: Runner) -> None:
        self._run = runner

    async def save_incident(self, incident: Incident, *, expected_version: int | None) -> bool:
        try:
            return await self._run.write(_save, incident, expected_version)
        except duckdb.ConstraintException:  # the id exists: not a new incident
            return False

    async def get_incident(self, project: str, incident_id: str) -> Incident | None:
        found = await self._run.read(
            _select,
            "WHERE id = $id AND project = $project",
            {"id": incident_id, "project": project},
        )
        return found[0] if found else None

    async def list_incidents(
        self,
        project: str,
        *,
        state: IncidentState | None = None,
        before: tuple[int, str] | None = None,
        first: int = 100,
    ) -> list[Incident]:
        where = "WHERE project = $project"
        params: dict[str, Any] = {"project": project}
        if state is not None:
            where += " AND state = $state"
            params["state"] = state.value
        if before is not None:
            where += " AND (opened_us, id) < ($bts, $bid)"
            params |= {"bts": before[0], "bid": before[1]}
        where += f" ORDER BY opened_us DESC, id DESC LIMIT {int(first)}"
        return await self._run.read(_select, where, params)

    async def open_incidents(self, project: str) -> list[Incident]:
        return await self._run.read(
            _select,
            "WHERE project = $project AND state != 'resolved' ORDER BY opened_us DESC, id DESC",
            {"project": project},
        )

    async def get_incident_settings(self, project: str) -> IncidentSettings | None:
        return await self._run.read(_settings, project)

    async def save_incident_settings(self, project: str, settings: IncidentSettings) -> None:
        await self._run.write(_save_settings, project, settings)


def _dumps(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))


@transaction
def _save(cur: Cursor, incident: Incident, expected: int | None) -> bool:
    params = {
        "id": incident.id,
        "project": incident.project,
        "state": incident.state.value,
        "opened": incident.opened_us,
        "version": incident.version,
        "doc": _dumps(incident.to_dict()),
    }
    if expected is None:
        cur.execute(
            "INSERT INTO incidents VALUES ($id, $project, $state, $opened, $version, $doc)",
            params,
        )
        return True
    params["expected"] = expected
    return bool(
        cur.execute(
            """
            UPDATE incidents SET state = $state, version = $version, doc = $doc
            WHERE id = $id AND project = $project AND version = $expected RETURNING id
            """,
            {k: v for k, v in params.items() if k != "opened"},
        ).fetchall()
    )


def _select(cur: Cursor, where: str, params: dict[str, Any]) -> list[Incident]:
    rows = cur.execute(f"SELECT doc FROM incidents {where}", params).fetchall()
    return [Incident.from_dict(json.loads(doc)) for (doc,) in rows]


def _settings(cur: Cursor, project: str) -> IncidentSettings | None:
    rows = cur.execute(
        "SELECT doc FROM incident_settings WHERE project = $p", {"p": project}
    ).fetchall()
    return IncidentSettings.from_dict(json.loads(rows[0][0])) if rows else None


def _save_settings(cur: Cursor, project: str, settings: IncidentSettings) -> None:
    cur.execute(
        """
        INSERT INTO incident_settings VALUES ($p, $doc)
        ON CONFLICT (project) DO UPDATE SET doc = excluded.doc
        """,
        {"p": project, "doc": _dumps(settings.to_dict())},
    )
