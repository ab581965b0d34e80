"""AuditStore on DuckDB: an append-only table ordered by a sequence number."""

from __future__ import annotations

import json
from typing import Any

from domain.dtos import AuditEntry
from domain.queries import GetAuditLogQuery
from infra.stores.duckdb.runner import Cursor, Runner

__all__ = ["DuckDBAuditStore"]

_INSERT = """
    INSERT INTO audit (actor, action, project, outcome, ts, request_id, detail)
    VALUES ($actor, $action, $project, $outcome, make_timestamp($ts), $request_id, $detail)
"""


class DuckDBAuditStore:
    """Entries get their `seq` from a sequence on the writer thread, so it only grows."""

    def __init__(self, runner: Runner) -> None:
        self._run = runner

    async def record(self, entry: AuditEntry) -> None:
        await self._run.write(_record, entry)

    async def list_entries(self, query: GetAuditLogQuery) -> list[AuditEntry]:
        """Newest first; `after` is the `seq` of the last entry already seen."""
        return await self._run.read(_list, query)


def _record(cur: Cursor, entry: AuditEntry) -> None:
    cur.execute(
        _INSERT,
        {
            "actor": entry.actor,
            "action": entry.action,
            "project": entry.project,
            "outcome": entry.outcome,
            "ts": entry.timestamp_us,
            "request_id": entry.request_id,
            "detail": json.dumps(entry.detail, separators=(",", ":"), default=str),
        },
    )


def _list(cur: Cursor, query: GetAuditLogQuery) -> list[AuditEntry]:
    if query.first <= 0:
        return []
    where = ["project = $project"]
    params: dict[str, Any] = {"project": query.project, "limit": query.first}
    for column, value, test in (
        ("actor", query.actor, "actor = $actor"),
        ("action", query.action, "action = $action"),
        ("start", query.start_us, "ts >= make_timestamp($start)"),
        ("end", query.end_us, "ts < make_timestamp($end)"),
        ("after", query.after, "seq < $after"),
    ):
        if value is not None:
            where.append(test)
            params[column] = value
    rows = cur.execute(
        "SELECT seq, actor, action, project, outcome, epoch_us(ts), request_id, detail"
        f" FROM audit WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT $limit",
        params,
    ).fetchall()
    return [
        AuditEntry(
            actor=actor,
            action=action,
            project=project,
            outcome=outcome,
            timestamp_us=ts,
            request_id=request_id,
            detail=json.loads(detail),
            seq=seq,
        )
        for seq, actor, action, project, outcome, ts, request_id, detail in rows
    ]
