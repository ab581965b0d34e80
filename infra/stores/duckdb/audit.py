"""AuditStore on DuckDB: an append-only table ordered by a sequence number."""

from __future__ import annotations

import asyncio
import json
from collections import deque
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from domain.system.queries import GetAuditLogQuery
from domain.system.read_models import AuditEntry
from infra.stores.duckdb.runner import Cursor, Runner

__all__ = ["DuckDBAuditStore"]

_INSERT = """
    INSERT INTO audit (actor, action, project, outcome, ts, request_id, detail)
    SELECT unnest($actors::VARCHAR[]), unnest($actions::VARCHAR[]),
        unnest($projects::VARCHAR[]), unnest($outcomes::VARCHAR[]),
        make_timestamp(unnest($ts::BIGINT[])), unnest($request_ids::VARCHAR[]),
        unnest($details::VARCHAR[])
"""


@dataclass(eq=False, slots=True)
class _Pending:
    entry: AuditEntry
    error: Exception | None = None


class DuckDBAuditStore:
    """Entries get their `seq` from a sequence on the writer thread, so it only grows.

    Entries waiting for the writer thread share one INSERT and one COMMIT (group commit,
    as for points): one transaction per entry cost the writer thread ~70% of its time
    under many small requests (docs/performance.md). `record` returns after the COMMIT.
    """

    def __init__(self, runner: Runner) -> None:
        self._run = runner
        self._pending: deque[_Pending] = deque()

    async def record(self, entry: AuditEntry) -> None:
        pending = _Pending(entry)
        self._pending.append(pending)
        try:
            # Drains run in order on one thread: when ours has run, so has any earlier
            # drain that took this entry, and `pending.error` is final.
            await self._run.write(self._drain)
        except asyncio.CancelledError:
            with suppress(ValueError):
                self._pending.remove(pending)
            raise
        if pending.error is not None:
            raise pending.error

    def _drain(self, cur: Cursor) -> None:
        group = list(self._pending)
        self._pending.clear()
        if not group:
            return
        try:
            _record(cur, [p.entry for p in group])
        except Exception as exc:
            for pending in group:
                pending.error = exc

    async def list_entries(self, query: GetAuditLogQuery) -> list[AuditEntry]:
        """Newest first; `after` is the `seq` of the last entry already seen."""
        return await self._run.read(_list, query)


def _record(cur: Cursor, entries: list[AuditEntry]) -> None:
    cur.execute(
        _INSERT,
        {
            "actors": [e.actor for e in entries],
            "actions": [e.action for e in entries],
            "projects": [e.project for e in entries],
            "outcomes": [e.outcome for e in entries],
            "ts": [e.timestamp_us for e in entries],
            "request_ids": [e.request_id for e in entries],
            "details": [json.dumps(e.detail, separators=(",", ":"), default=str) for e in entries],
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
