"""The append path: batches waiting for the writer thread share one transaction (group commit)."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass

from domain.changes import AuditNote, take_ok_entry
from domain.errors import Unavailable
from domain.metrics.ingest import PointBatch, SeriesSpec
from domain.metrics.ports import AppendResult
from infra.stores.duckdb.audit import DuckDBAuditStore, PendingEntry
from infra.stores.duckdb.catalogue import SeriesCatalogue
from infra.stores.duckdb.dirty_spans import SpanPlan
from infra.stores.duckdb.group_commit import Staging
from infra.stores.duckdb.overlap import Columns, LatestStamps, Plan, apply
from infra.stores.duckdb.rollups import Watermarks, mark_dirty
from infra.stores.duckdb.runner import Cursor, Runner, transaction

__all__ = ["BatchWriter"]

_FIRST_COUNT = "SELECT accepted FROM ingest_keys WHERE project = $project AND key = $key"
_INSERT_KEYS = """
    INSERT INTO ingest_keys SELECT
        unnest($projects::VARCHAR[]), unnest($keys::VARCHAR[]), unnest($counts::BIGINT[]),
        make_timestamp($now)
"""
_INSERT_SERIES = """
    INSERT INTO series SELECT
        unnest($projects::VARCHAR[]), unnest($ids::BIGINT[]), unnest($names::VARCHAR[]),
        map(unnest($keys::VARCHAR[][]), unnest($values::VARCHAR[][])),
        unnest($types::VARCHAR[]), unnest($categories::VARCHAR[]), unnest($sources::VARCHAR[]),
        make_timestamp($now)
    ON CONFLICT DO NOTHING
"""


@dataclass(frozen=True, slots=True)
class _Staged:
    """A group's statements run, waiting for the COMMIT."""

    answers: dict[_Request, AppendResult]
    fresh: list[tuple[str, SeriesSpec]]
    plan: Plan
    spans: SpanPlan


@dataclass(eq=False, slots=True)
class _Request:
    batch: PointBatch
    key: str | None
    result: AppendResult | None = None
    error: Exception | None = None
    taken: bool = False  # by a drain (set on the writer thread)


class BatchWriter:
    """Appends batches on the writer thread, committing all that are waiting at once.

    Every statement and every COMMIT (a sync of the write-ahead log) has a fixed cost,
    so a group of batches costs little more than one; the audit entries waiting share
    the transaction too (group_commit.py). Each batch stays all-or-nothing: if the
    group's transaction fails, its batches are retried one by one and only the faulty
    one fails. A batch's caller resumes only after the COMMIT that stored it.
    Storing a (series, timestamp) again replaces the stored point (overlap.py).
    """

    def __init__(
        self,
        runner: Runner,
        catalogue: SeriesCatalogue,
        *,
        max_points: int = 100_000,
        watermarks: Watermarks | None = None,
    ):
        self._run = runner
        self._catalogue = catalogue
        self._max_points = max_points
        self._queue: deque[_Request] = deque()
        self._latest = LatestStamps()
        self._watermarks = watermarks or Watermarks()  # of the rollup tiers (rollups.py)
        self._audit: DuckDBAuditStore | None = None
        runner.group.join(self)

    def audit_with(self, audit: DuckDBAuditStore) -> None:
        """Commit the "ok" audit entry of the command a batch belongs to in the batch's
        own transaction (decision 0042): one COMMIT per ingest request instead of two."""
        self._audit = audit

    async def append(self, batch: PointBatch, key: str | None) -> AppendResult:
        request = _Request(batch, key)
        tied = self._tied_ok_entry(request)
        self._queue.append(request)
        try:
            # Drains run in order on one thread: this one, or an earlier one, takes it
            # (and its entry: the same drain, after it).
            await self._run.write(self._run.group.drain)
        except asyncio.CancelledError:
            with suppress(ValueError):  # not taken yet: it will never be stored
                self._queue.remove(request)
            if tied is not None:
                tied[1].forget()
            raise
        if request.error is not None:
            raise self._run.fault(request.error)
        if request.result is None:  # its drain was interrupted before it answered
            raise Unavailable("the batch was not stored")
        if tied is not None:  # stored with the points, or the audit trail records it after
            tied[0].ok_written = tied[1].stored is not None
        self._run.faults.write_fault = ""  # points are stored again: writes work
        return request.result

    def _tied_ok_entry(self, request: _Request) -> tuple[AuditNote, PendingEntry] | None:
        """The running command's "ok" audit entry, queued to commit with `request`."""
        if self._audit is None or (offered := take_ok_entry()) is None:
            return None
        note, entry = offered
        return note, self._audit.queue(entry, with_write=request)

    def take(self) -> Staging[_Staged] | None:
        """The batches waiting now, up to `max_points` (at least one), for the next COMMIT."""
        group: list[_Request] = []
        points = 0
        while self._queue and (not group or points + len(self._queue[0].batch) <= self._max_points):
            group.append(self._queue.popleft())
            group[-1].taken = True
            points += len(group[-1].batch)
        if not group:
            return None
        return Staging(
            lambda cur: self.stage(cur, group, careful=False),
            self.committed,
            lambda cur: self.alone(cur, group),
        )

    def stage(self, cur: Cursor, group: Sequence[_Request], *, careful: bool) -> _Staged:
        """The group's statements, inside the caller's transaction. Optimistic keys: a used
        key breaks the INSERT, and the careful retry of each batch alone then looks its key
        up first."""
        now = time.time_ns() // 1000
        answers: dict[_Request, AppendResult] = {}
        claimed: dict[tuple[str, str], int] = {}
        stored: list[_Request] = []
        for request in group:
            project, key, count = request.batch.project, request.key, len(request.batch)
            if key is not None:
                if (project, key) in claimed:
                    answers[request] = AppendResult(claimed[project, key], replayed=True)
                    continue
                if careful:
                    rows = cur.execute(_FIRST_COUNT, {"project": project, "key": key}).fetchall()
                    if rows:
                        answers[request] = AppendResult(int(rows[0][0]), replayed=True)
                        continue
                claimed[project, key] = count
            stored.append(request)
            answers[request] = AppendResult(count, replayed=False)
        columns = Columns.of([r.batch for r in stored])  # a malformed batch fails here
        if claimed:
            cur.execute(_INSERT_KEYS, _key_params(claimed, now))
        fresh = self._fresh(stored)
        plan = self._latest.plan(cur, columns, {spec.id for _, spec in fresh})
        if fresh:
            cur.execute(_INSERT_SERIES, _series_params(fresh, now))
        apply(cur, plan)
        spans = mark_dirty(cur, self._watermarks, columns)  # late points' tier buckets
        return _Staged(answers, fresh, plan, spans)

    def committed(self, staged: _Staged) -> None:
        """What a committed group changed, remembered; its callers answered."""
        self._latest.commit(staged.plan)  # only once committed, as the catalogue
        self._watermarks.spans.commit(staged.spans)
        for project, spec in staged.fresh:
            self._catalogue.add(project, [spec])
        for request, answer in staged.answers.items():
            request.result = answer

    def alone(self, cur: Cursor, group: Sequence[_Request]) -> None:
        """Each batch in a transaction of its own: the faulty one fails, the others are
        stored."""
        for request in group:
            try:
                staged = transaction(self.stage)(cur, [request], careful=True)
            except Exception as exc:
                request.error = exc
                continue
            self.committed(staged)

    def _fresh(self, requests: Sequence[_Request]) -> list[tuple[str, SeriesSpec]]:
        fresh: dict[int, tuple[str, SeriesSpec]] = {}
        for request in requests:
            project = request.batch.project
            for spec in self._catalogue.unknown(project, request.batch.series):
                fresh.setdefault(spec.id, (project, spec))
        return list(fresh.values())


def _key_params(claimed: dict[tuple[str, str], int], now: int) -> dict[str, object]:
    return {
        "projects": [project for project, _ in claimed],
        "keys": [key for _, key in claimed],
        "counts": list(claimed.values()),
        "now": now,
    }


def _series_params(fresh: Sequence[tuple[str, SeriesSpec]], now: int) -> dict[str, object]:
    specs = [spec for _, spec in fresh]
    return {
        "projects": [project for project, _ in fresh],
        "ids": [s.id for s in specs],
        "names": [s.name for s in specs],
        "keys": [list(s.tags) for s in specs],
        "values": [list(s.tags.values()) for s in specs],
        "types": [s.type.value for s in specs],
        "categories": [s.category for s in specs],
        "sources": [s.source for s in specs],
        "now": now,
    }
