"""On DuckDB an ingest command's "ok" audit entry commits in its points' transaction
(decision 0042): one COMMIT per request instead of two, and a stored batch never lacks
its entry. The entry goes with its batch: a batch that fails, or that its caller leaves
before a drain takes it, leaves no entry; a batch left for a later drain takes its entry
along."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import pytest

from domain.changes import AuditNote, collecting
from domain.system.queries import GetAuditLogQuery
from domain.system.read_models import AuditEntry
from infra.stores.duckdb import DuckDBDatabase
from tests.contract.data import NOW_US, SECOND, Point, point_batch
from tests.contract.test_duckdb_group_commit import _hosts, _together, commits, db
from tests.contract.test_system_audit import entry

__all__ = ["commits", "db"]  # the fixtures, imported for these tests


def _batch(host: str, *, bad: bool = False) -> Any:
    batch = point_batch("alpha", [Point("cpu", {"host": host}, NOW_US + SECOND, 1.0)])
    if bad:
        batch.series_index[-1] = len(batch.series)  # names a series the batch does not hold
    return batch


class Offered:
    """An append made inside a command whose "ok" entry is offered to the store."""

    def __init__(self, db: DuckDBDatabase, batch: Any, ok: AuditEntry) -> None:
        self.note = AuditNote()
        self.call = self._append(db, batch, ok)

    async def _append(self, db: DuckDBDatabase, batch: Any, ok: AuditEntry) -> Any:
        with collecting() as note:
            self.note = note
            note.ok_entry = lambda: ok
            return await db.metrics.append(batch)


async def _actors(db: DuckDBDatabase) -> list[str]:
    listed = list(reversed(await db.audit.list_entries(GetAuditLogQuery("alpha"))))
    assert [e.chain_index for e in listed] == list(range(1, len(listed) + 1))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(listed))
    return [e.actor for e in listed]


async def test_the_ok_entry_commits_with_the_points(db: DuckDBDatabase, commits: list[int]) -> None:
    offered = Offered(db, _batch("web-1"), entry(1, "ann", "CreateMetricsCommand"))

    result = await offered.call

    assert result.accepted == 1
    assert len(commits) == 1
    assert offered.note.ok_written
    assert offered.note.ok_entry is None  # taken: no second write carries it
    assert await _hosts(db) == ["web-1"]
    assert await _actors(db) == ["ann"]


async def test_a_failed_batch_takes_its_entry_with_it(db: DuckDBDatabase) -> None:
    good = Offered(db, _batch("web-1"), entry(1, "ann", "CreateMetricsCommand"))
    bad = Offered(db, _batch("bad", bad=True), entry(3, "bob", "CreateMetricsCommand"))

    results = await _together(
        db, good.call, bad.call, db.audit.record(entry(5, "cid", "createAlert"))
    )

    assert not isinstance(results[0], BaseException)
    assert isinstance(results[1], IndexError)
    assert not isinstance(results[2], BaseException)
    assert await _hosts(db) == ["web-1"]
    assert await _actors(db) == ["ann", "cid"]  # bob's "ok" is not in the log
    assert good.note.ok_written and not bad.note.ok_written


async def test_an_entry_waits_for_the_drain_that_takes_its_batch(db: DuckDBDatabase) -> None:
    db.metrics._writer._max_points = 1  # one batch a drain: the second waits for the next
    first = Offered(db, _batch("web-1"), entry(1, "ann", "CreateMetricsCommand"))
    second = Offered(db, _batch("bad", bad=True), entry(3, "bob", "CreateMetricsCommand"))

    results = await _together(db, first.call, second.call)

    # Had bob's entry gone with the first drain, it would be stored beside ann's.
    assert isinstance(results[1], IndexError)
    assert await _hosts(db) == ["web-1"]
    assert await _actors(db) == ["ann"]


async def test_a_caller_that_leaves_before_the_drain_leaves_no_entry(
    db: DuckDBDatabase,
) -> None:
    left = Offered(db, _batch("web-1"), entry(1, "ann", "CreateMetricsCommand"))
    stays = Offered(db, _batch("web-2"), entry(3, "bob", "CreateMetricsCommand"))

    async def leaving() -> None:
        task = asyncio.ensure_future(left.call)
        await asyncio.sleep(0.01)  # queued behind the busy writer
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    await _together(db, leaving(), stays.call)

    assert await _hosts(db) == ["web-2"]
    assert await _actors(db) == ["bob"]
    assert not db.audit._pending  # nothing left waiting for a batch that never comes
