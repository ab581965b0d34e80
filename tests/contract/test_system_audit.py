"""The audit log: recorded in order, listed newest first, filtered and paged per project."""

from __future__ import annotations

import asyncio
import itertools

from domain.system.ports import AuditStore
from domain.system.queries import GetAuditLogQuery
from domain.system.read_models import AuditEntry
from tests.contract.data import NOW_US, SECOND


def entry(i: int, actor: str, action: str, project: str = "alpha") -> AuditEntry:
    return AuditEntry(
        actor=actor,
        action=action,
        project=project,
        outcome="ok" if i % 2 else "FORBIDDEN",
        timestamp_us=NOW_US + i * SECOND,
        request_id=f"req-{i}",
        detail={"i": i, "nested": {"ids": [1, 2]}},
    )


async def record_all(audit: AuditStore) -> list[AuditEntry]:
    entries = [
        entry(0, "ann", "createAlert"),
        entry(1, "bob", "createAlert"),
        entry(2, "ann", "updateAlert"),
        entry(3, "ann", "createAlert"),
        entry(4, "bob", "deleteDashboard"),
        entry(5, "eve", "createAlert", project="beta"),
    ]
    for e in entries:
        await audit.record(e)
    return entries


async def test_entries_come_back_newest_first_with_growing_seq(audit: AuditStore) -> None:
    recorded = await record_all(audit)

    listed = await audit.list_entries(GetAuditLogQuery("alpha"))

    assert [e.request_id for e in listed] == ["req-4", "req-3", "req-2", "req-1", "req-0"]
    seqs = [e.seq for e in listed]
    assert seqs == sorted(seqs, reverse=True) and len(set(seqs)) == 5
    newest = listed[0]
    assert (newest.actor, newest.action, newest.project, newest.outcome) == (
        "bob",
        "deleteDashboard",
        "alpha",
        recorded[4].outcome,
    )
    assert (newest.timestamp_us, newest.detail) == (recorded[4].timestamp_us, recorded[4].detail)


async def test_filters_by_actor_action_and_time(audit: AuditStore) -> None:
    await record_all(audit)

    by_ann = await audit.list_entries(GetAuditLogQuery("alpha", actor="ann"))
    creates = await audit.list_entries(GetAuditLogQuery("alpha", action="createAlert"))
    both = await audit.list_entries(GetAuditLogQuery("alpha", actor="ann", action="createAlert"))
    window = await audit.list_entries(
        GetAuditLogQuery("alpha", start_us=NOW_US + SECOND, end_us=NOW_US + 3 * SECOND)
    )

    assert [e.request_id for e in by_ann] == ["req-3", "req-2", "req-0"]
    assert [e.request_id for e in creates] == ["req-3", "req-1", "req-0"]
    assert [e.request_id for e in both] == ["req-3", "req-0"]
    assert [e.request_id for e in window] == ["req-2", "req-1"]


async def test_pages_follow_the_seq_cursor(audit: AuditStore) -> None:
    await record_all(audit)

    pages, after = [], None
    while True:
        page = await audit.list_entries(GetAuditLogQuery("alpha", first=2, after=after))
        if not page:
            break
        pages.append([e.request_id for e in page])
        after = page[-1].seq

    assert pages == [["req-4", "req-3"], ["req-2", "req-1"], ["req-0"]]


async def test_entries_belong_to_their_project(audit: AuditStore) -> None:
    await record_all(audit)

    assert [e.actor for e in await audit.list_entries(GetAuditLogQuery("beta"))] == ["eve"]
    assert await audit.list_entries(GetAuditLogQuery("gamma")) == []


async def test_entries_recorded_together_read_back_as_entries_recorded_alone(
    audit: AuditStore,
) -> None:
    """Entries waiting for the writer share one INSERT (a DuckDB store writes a few
    entries another way than many): both must store the same rows, in order, chained."""
    alone = [entry(i, "ann", "createAlert") for i in range(3)]
    for e in alone:
        await audit.record(e)
    together = [entry(i, "bob", "updateAlert") for i in range(3, 6)]
    stored = await asyncio.gather(*(audit.record(e) for e in together))

    listed = list(reversed(await audit.list_entries(GetAuditLogQuery("alpha"))))
    assert [(e.actor, e.action, e.request_id, e.detail, e.outcome) for e in listed] == [
        (e.actor, e.action, e.request_id, e.detail, e.outcome) for e in [*alone, *together]
    ]
    assert [e.timestamp_us for e in listed] == [e.timestamp_us for e in [*alone, *together]]
    assert [e.chain_index for e in listed] == list(
        range(listed[0].chain_index, listed[0].chain_index + 6)
    )
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(listed))
    assert [s.seq for s in stored] == [e.seq for e in listed[3:]]
