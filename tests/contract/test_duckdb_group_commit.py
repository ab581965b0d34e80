"""DuckDB's writer commits the points batches and audit entries waiting at the same moment
in one transaction (infra/stores/duckdb/group_commit.py); each caller's work stays all or
nothing, whatever else shared its transaction."""

from __future__ import annotations

import asyncio
import itertools
import threading
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path
from typing import Any

import pytest

from domain.metrics.queries import GetMetricsListQuery
from domain.system.queries import GetAuditLogQuery
from infra.stores.duckdb import DuckDBDatabase, faults
from infra.stores.duckdb import transaction as transactions
from tests.contract.data import NOW_US, SECOND, Point, point_batch
from tests.contract.test_system_audit import entry


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[DuckDBDatabase]:
    database = await DuckDBDatabase.open(str(tmp_path / "vigil.duckdb"))
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def commits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the COMMITs of transactions (each still commits)."""
    counted: list[int] = []
    real = faults.commit

    def counting(cur: object) -> None:
        counted.append(1)
        real(cur)  # type: ignore[arg-type]

    monkeypatch.setattr(transactions, "commit", counting)
    return counted


def _batch(host: str, offset: int = 0) -> object:
    return point_batch("alpha", [Point("cpu", {"host": host}, NOW_US + offset * SECOND, 1.0)])


async def _together(db: DuckDBDatabase, *calls: Awaitable[Any]) -> list[Any]:
    """Every call's answer or error, the calls queued while the writer thread is held
    busy: the writer's next drain takes them all."""
    gate = threading.Event()
    busy = asyncio.create_task(db._runner.write(lambda _cur: gate.wait(10)))
    await asyncio.sleep(0.02)  # the writer is inside the busy call
    waiting = asyncio.gather(*calls, return_exceptions=True)
    await asyncio.sleep(0.05)  # every call has queued its work
    gate.set()
    await busy
    return await waiting


async def _hosts(db: DuckDBDatabase) -> list[str]:
    page = await db.metrics.list_points(GetMetricsListQuery("alpha", "cpu", first=50))
    return sorted(m.tags["host"] for m in page.items)


async def test_points_and_entries_waiting_together_share_one_commit(
    db: DuckDBDatabase, commits: list[int]
) -> None:
    appended, recorded, *_ = await _together(
        db,
        db.metrics.append(_batch("web-1")),  # type: ignore[arg-type]
        db.audit.record(entry(1, "ann", "createMetrics")),
        db.metrics.append(_batch("web-2")),  # type: ignore[arg-type]
        db.audit.record(entry(2, "bob", "createMetrics")),
    )

    assert len(commits) == 1
    assert appended.accepted == 1
    assert await _hosts(db) == ["web-1", "web-2"]
    listed = await db.audit.list_entries(GetAuditLogQuery("alpha"))
    assert [e.actor for e in reversed(listed)] == ["ann", "bob"]
    assert recorded.seq == listed[-1].seq


async def test_a_faulty_batch_fails_alone_and_what_shared_its_transaction_is_stored(
    db: DuckDBDatabase,
) -> None:
    bad = point_batch("alpha", [Point("cpu", {"host": "bad"}, NOW_US, 1.0)])
    bad.series_index[-1] = len(bad.series)  # names a series the batch does not hold

    results = await _together(
        db,
        db.metrics.append(_batch("web-1")),  # type: ignore[arg-type]
        db.metrics.append(bad),
        db.audit.record(entry(1, "ann", "createMetrics")),
    )

    assert not isinstance(results[0], BaseException)
    assert isinstance(results[1], IndexError)
    assert not isinstance(results[2], BaseException)
    assert await _hosts(db) == ["web-1"]
    assert [e.actor for e in await db.audit.list_entries(GetAuditLogQuery("alpha"))] == ["ann"]


async def test_a_refused_entry_fails_alone_and_the_points_beside_it_are_stored(
    db: DuckDBDatabase,
) -> None:
    first = await db.audit.record(entry(1, "ann", "createMetrics"))
    # A fork: the writer believes the chain's head is older than it is, so the entry
    # takes a chain index already used and the unique index refuses it.
    db.audit._heads["alpha"] = (first.chain_index - 1, first.prev_hash)

    results = await _together(
        db,
        db.metrics.append(_batch("web-1")),  # type: ignore[arg-type]
        db.audit.record(entry(2, "bob", "createMetrics")),
    )

    assert not isinstance(results[0], BaseException)
    assert isinstance(results[1], Exception)
    assert await _hosts(db) == ["web-1"]
    assert [e.actor for e in await db.audit.list_entries(GetAuditLogQuery("alpha"))] == ["ann"]
    # The refused entry made the writer read the head again: the next entry chains on.
    after = await db.audit.record(entry(3, "cid", "createMetrics"))
    assert (after.chain_index, after.prev_hash) == (first.chain_index + 1, first.hash)


@pytest.mark.parametrize("together", [2, 5, 9])
async def test_entries_stored_in_one_statement_read_back_as_entries_stored_alone(
    db: DuckDBDatabase, together: int
) -> None:
    """A few entries are rows of VALUES, more are unnested lists: the same rows, chained."""
    alone = [entry(i, "ann", "createAlert") for i in range(2)]
    for e in alone:
        await db.audit.record(e)
    grouped = [entry(i, "bob", "updateAlert") for i in range(2, 2 + together)]
    stored = await _together(db, *(db.audit.record(e) for e in grouped))

    listed = list(reversed(await db.audit.list_entries(GetAuditLogQuery("alpha"))))
    expected = [*alone, *grouped]
    assert [(e.actor, e.request_id, e.detail, e.outcome, e.timestamp_us) for e in listed] == [
        (e.actor, e.request_id, e.detail, e.outcome, e.timestamp_us) for e in expected
    ]
    assert [e.chain_index for e in listed] == list(range(1, len(expected) + 1))
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(listed))
    assert [s.seq for s in stored] == [e.seq for e in listed[2:]]
