"""AuditStore on DuckDB: an append-only table, each project's entries chained by hash."""

from __future__ import annotations

import asyncio
import functools
import json
from collections import deque
from contextlib import suppress
from dataclasses import dataclass, replace
from typing import Any, Protocol

from domain.errors import Unavailable
from domain.system.model import link
from domain.system.queries import GetAuditLogQuery
from domain.system.read_models import AuditEntry
from infra.stores.duckdb.group_commit import Staging
from infra.stores.duckdb.runner import Cursor, Runner, transaction

__all__ = ["DuckDBAuditStore", "PendingEntry", "row_entry"]

COLUMNS = (
    "seq, actor, action, project, outcome, epoch_us(ts), request_id, detail,"
    " role, target, changes, client, chain_index, prev_hash, hash"
)
_INTO = """INSERT INTO audit (actor, action, project, outcome, ts, request_id, detail,
        role, target, changes, client, chain_index, prev_hash, hash)"""
_INSERT = f"""{_INTO}
    SELECT unnest($actors::VARCHAR[]), unnest($actions::VARCHAR[]),
        unnest($projects::VARCHAR[]), unnest($outcomes::VARCHAR[]),
        make_timestamp(unnest($ts::BIGINT[])), unnest($request_ids::VARCHAR[]),
        unnest($details::VARCHAR[]), unnest($roles::VARCHAR[]), unnest($targets::VARCHAR[]),
        unnest($changes::VARCHAR[]), unnest($clients::VARCHAR[]),
        unnest($indexes::BIGINT[]), unnest($prevs::VARCHAR[]), unnest($hashes::VARCHAR[])
    RETURNING project, chain_index, seq
"""
# _INSERT's list parameters, in the order of _row's values.
_LISTS = (
    "actors",
    "actions",
    "projects",
    "outcomes",
    "ts",
    "request_ids",
    "details",
    "roles",
    "targets",
    "changes",
    "clients",
    "indexes",
    "prevs",
    "hashes",
)
# A few entries (the usual group: a request's, or the few waiting beside it): rows of
# VALUES, which cost less than unnesting 14 lists up to about four rows (INSERT and COMMIT
# on the bench store: 1 row 1.52 against 1.95 ms; 2: 1.63 against 1.99; 4: 1.85 against
# 2.04; 8: 2.35 against 2.16).
_VALUES_UP_TO = 4
_ROW = "(?, ?, ?, ?, make_timestamp(?), ?, ?, ?, ?, ?, ?, ?, ?, ?)"


@functools.cache
def _insert_values(rows: int) -> str:
    return f"{_INTO} VALUES {', '.join([_ROW] * rows)} RETURNING project, chain_index, seq"


_HEAD = (
    f"SELECT {COLUMNS} FROM audit WHERE project = $project"
    " ORDER BY chain_index DESC, seq DESC LIMIT 1"
)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def row_entry(row: tuple[Any, ...]) -> AuditEntry:
    (seq, actor, action, project, outcome, ts, request_id, detail) = row[:8]
    (role, target, changes, client, chain_index, prev_hash, digest) = row[8:]
    return AuditEntry(
        actor=actor,
        action=action,
        project=project,
        outcome=outcome,
        timestamp_us=ts,
        request_id=request_id,
        detail=json.loads(detail),
        seq=seq,
        role=role,
        target=json.loads(target),
        changes=json.loads(changes),
        client=client,
        chain_index=chain_index,
        prev_hash=prev_hash,
        hash=digest,
    )


_Heads = dict[str, tuple[int, str]]  # each project's chain head: (index, hash)
# What a staged group needs once committed: the linked entries, the new heads, the seqs.
_Linked = tuple[list[AuditEntry], _Heads, dict[tuple[str, int], int]]


class Write(Protocol):
    """A write an entry commits with (ingest.py's request): taken by a drain, then failed
    or not."""

    taken: bool
    error: Exception | None


class _WriteFailed(Exception):
    """The write the entry was to commit with failed: the entry is not stored."""


@dataclass(eq=False, slots=True)
class PendingEntry:
    entry: AuditEntry
    stored: AuditEntry | None = None
    error: Exception | None = None
    with_write: Write | None = None  # stored only in the same transaction as this write
    forgotten: bool = False  # its caller left before a drain took it

    @property
    def ready(self) -> bool:
        return self.with_write is None or self.with_write.taken

    def forget(self) -> None:
        """Its caller left: the next drain drops it (unless one took it with its write)."""
        self.forgotten = True


class DuckDBAuditStore:
    """Entries get their `seq` from a sequence on the writer thread, so it only grows.

    Entries waiting for the writer thread share one INSERT, and one COMMIT with the
    points batches waiting beside them (group_commit.py): one transaction per entry cost
    the writer thread ~70% of its time under many small requests (docs/performance.md).
    `record` returns after the COMMIT.

    The chain is linked on the writer thread too: this process is the file's only writer,
    so the head of each project's chain it remembers (`_heads`, read from the file the
    first time) is the head; a unique index on (project, chain_index) refuses a fork.
    """

    def __init__(self, runner: Runner) -> None:
        self._run = runner
        self._pending: deque[PendingEntry] = deque()
        self._heads: _Heads = {}  # writer thread only
        runner.group.join(self, last=True)  # after the batches its entries go with

    async def record(self, entry: AuditEntry) -> AuditEntry:
        pending = PendingEntry(entry)
        self._pending.append(pending)
        try:
            # Drains run in order on one thread: when ours has run, so has any earlier
            # drain that took this entry, and `pending.error` is final.
            await self._run.write(self._run.group.drain)
        except asyncio.CancelledError:
            with suppress(ValueError):
                self._pending.remove(pending)
            raise
        if pending.error is not None:
            raise self._run.fault(pending.error)
        if pending.stored is None:  # its drain was interrupted before it answered
            raise Unavailable("the audit entry was not stored")
        return pending.stored

    def queue(self, entry: AuditEntry, *, with_write: Write) -> PendingEntry:
        """An entry to commit in the same transaction as `with_write`, which its caller
        queues beside it and drains (ingest.py); `stored` once it has."""
        pending = PendingEntry(entry, with_write=with_write)
        self._pending.append(pending)
        return pending

    def take(self) -> Staging[_Linked] | None:
        """The entries waiting now, for the next COMMIT (group_commit.py); an entry that
        goes with a write waits for the drain that takes the write (which stages it
        first: this queue joined the group `last`)."""
        group: list[PendingEntry] = []
        later: list[PendingEntry] = []
        for _ in range(len(self._pending)):  # popleft: the loop may append meanwhile
            try:
                pending = self._pending.popleft()
            except IndexError:  # the loop removed one meanwhile (a cancelled record)
                break
            if not pending.forgotten:
                (group if pending.ready else later).append(pending)
        self._pending.extendleft(reversed(later))
        if not group:
            return None
        return Staging(
            lambda cur: self.stage(cur, group),
            lambda staged: self.committed(group, staged),
            lambda cur: self.alone(cur, group),
        )

    def stage(self, cur: Cursor, group: list[PendingEntry]) -> _Linked:
        """Each entry chained after its project's head and inserted; the heads after
        them (inside the caller's transaction)."""
        heads = dict(self._heads)
        linked = []
        for pending in group:
            project = pending.entry.project
            if project not in heads:
                rows = cur.execute(_HEAD, {"project": project}).fetchall()
                if rows:
                    heads[project] = (rows[0][12], rows[0][14])
            entry = link(pending.entry, heads.get(project))
            heads[project] = (entry.chain_index, entry.hash)
            linked.append(entry)
        return linked, heads, _record(cur, linked)

    def committed(self, group: list[PendingEntry], staged: _Linked) -> None:
        linked, heads, seqs = staged
        self._heads.update(heads)
        for pending, entry in zip(group, linked, strict=True):
            pending.stored = replace(entry, seq=seqs[(entry.project, entry.chain_index)])

    def alone(self, cur: Cursor, group: list[PendingEntry]) -> None:
        """The group in a transaction of its own; if it fails, every entry fails with it
        and the heads are read from the file again next time. An entry whose write failed
        (its retry, alone, ran before this) is left out."""
        failed = [p for p in group if p.with_write is not None and p.with_write.error]
        for pending in failed:
            pending.error = _WriteFailed()
        group = [p for p in group if p.error is None]
        if not group:
            return
        try:
            staged = transaction(self.stage)(cur, group)
        except Exception as exc:
            for pending in group:
                pending.error = exc
                self._heads.pop(pending.entry.project, None)
            return
        self.committed(group, staged)

    async def list_entries(self, query: GetAuditLogQuery) -> list[AuditEntry]:
        """Newest first; `after` is the `seq` of the last entry already seen."""
        return await self._run.read(_list, query)

    async def chain(self, project: str, *, after_index: int, first: int) -> list[AuditEntry]:
        rows = await self._run.read(
            _rows,
            f"SELECT {COLUMNS} FROM audit WHERE project = $project AND chain_index > $after"
            " ORDER BY chain_index, seq LIMIT $first",
            {"project": project, "after": after_index, "first": first},
        )
        return [row_entry(r) for r in rows]

    async def first_index_at(self, project: str, at_us: int) -> int | None:
        rows = await self._run.read(
            _rows,
            "SELECT min(chain_index) FROM audit"
            " WHERE project = $project AND ts >= make_timestamp($at)",
            {"project": project, "at": at_us},
        )
        return rows[0][0] if rows and rows[0][0] is not None else None

    async def head(self, project: str) -> AuditEntry | None:
        rows = await self._run.read(_rows, _HEAD, {"project": project})
        return row_entry(rows[0]) if rows else None

    async def projects(self) -> list[str]:
        rows = await self._run.read(
            _rows, "SELECT DISTINCT project FROM audit WHERE project <> '' ORDER BY 1", {}
        )
        return [p for (p,) in rows]


def _rows(cur: Cursor, sql: str, params: dict[str, Any]) -> list[Any]:
    return cur.execute(sql, params).fetchall()


def _row(e: AuditEntry) -> tuple[Any, ...]:
    return (
        e.actor,
        e.action,
        e.project,
        e.outcome,
        e.timestamp_us,
        e.request_id,
        _dumps(e.detail),
        e.role,
        _dumps(e.target),
        _dumps(e.changes),
        e.client,
        e.chain_index,
        e.prev_hash,
        e.hash,
    )


def _record(cur: Cursor, entries: list[AuditEntry]) -> dict[tuple[str, int], int]:
    rows = [_row(e) for e in entries]
    if len(rows) <= _VALUES_UP_TO:
        result = cur.execute(_insert_values(len(rows)), [v for row in rows for v in row])
    else:
        columns = zip(*rows, strict=True)
        result = cur.execute(
            _INSERT, {name: list(c) for name, c in zip(_LISTS, columns, strict=True)}
        )
    return {(project, index): seq for project, index, seq in result.fetchall()}


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
        f"SELECT {COLUMNS} FROM audit WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT $limit",
        params,
    ).fetchall()
    return [row_entry(r) for r in rows]
