"""The audit chain: each single tampering (edit, delete, insert, reorder, replace, cut) is
found, and located at the first entry where it shows."""

from __future__ import annotations

from dataclasses import replace

import pytest

from domain.compliance.evidence import verify_chain
from domain.compliance.read_models import AuditVerificationDto
from domain.compliance.runs import write_checkpoints
from domain.compliance.verification import BreakKind
from domain.system.model import GENESIS, Checkpoint, entry_hash
from domain.system.read_models import AuditEntry
from tests.unit.compliance.fakes import ChainStore, FakeSigner, MemoryComplianceStore
from tests.unit.fakes import NOW_US, FakeClock

ENTRIES = 8


class Leases:
    async def acquire_lease(self, name: str, owner: str, *, now_us: int, ttl_us: int) -> bool:
        return True

    async def release_lease(self, name: str, owner: str) -> None:
        return None


@pytest.fixture
async def chain() -> ChainStore:
    store = ChainStore()
    for i in range(ENTRIES):
        await store.record(
            AuditEntry("ann", "createAlert", "alpha", "ok", NOW_US + i, f"r{i}", {"i": i})
        )
        await store.record(AuditEntry("bob", "createAlert", "beta", "ok", NOW_US + i))
    return store


async def verify(
    store: ChainStore, cps: MemoryComplianceStore | None = None
) -> AuditVerificationDto:
    return await verify_chain(
        "alpha",
        None,
        None,
        audit_store=store,  # type: ignore[arg-type]
        compliance_store=cps or MemoryComplianceStore(),
        signer=FakeSigner(),
    )


def at(store: ChainStore, index: int) -> int:
    return next(
        i for i, r in enumerate(store.rows) if (r.project, r.chain_index) == ("alpha", index)
    )


async def test_an_untouched_chain_verifies(chain: ChainStore) -> None:
    found = await verify(chain)
    assert found.verified and found.entries == ENTRIES and found.head_index == ENTRIES
    first = (await chain.chain("alpha", after_index=0, first=1))[0]
    assert first.prev_hash == GENESIS


async def test_an_edited_entry_is_found_at_its_index(chain: ChainStore) -> None:
    row = at(chain, 4)
    chain.rows[row] = replace(chain.rows[row], actor="mallory")

    brk = (await verify(chain)).first_break
    assert brk is not None and (brk.kind, brk.chain_index) == (BreakKind.EDITED, 4)
    assert brk.seq == chain.rows[row].seq


async def test_an_edited_entry_whose_hash_was_recomputed_breaks_the_next_link(
    chain: ChainStore,
) -> None:
    row = at(chain, 4)
    forged = replace(chain.rows[row], outcome="FORBIDDEN")
    chain.rows[row] = replace(
        forged, hash=entry_hash(forged, chain_index=4, prev_hash=forged.prev_hash)
    )

    brk = (await verify(chain)).first_break
    assert brk is not None and (brk.kind, brk.chain_index) == (BreakKind.LINK, 5)


async def test_a_deleted_entry_is_found_missing(chain: ChainStore) -> None:
    del chain.rows[at(chain, 3)]

    brk = (await verify(chain)).first_break
    assert brk is not None and (brk.kind, brk.chain_index) == (BreakKind.MISSING, 3)
    assert "entries 3 are missing" in brk.detail


async def test_two_swapped_entries_are_found_moved(chain: ChainStore) -> None:
    a, b = at(chain, 5), at(chain, 6)
    chain.rows[a] = replace(chain.rows[a], chain_index=6)
    chain.rows[b] = replace(chain.rows[b], chain_index=5)

    brk = (await verify(chain)).first_break
    assert brk is not None and (brk.kind, brk.chain_index) == (BreakKind.MOVED, 5)
    assert "written at index 6" in brk.detail


async def test_an_inserted_entry_is_found_duplicate(chain: ChainStore) -> None:
    copy = replace(chain.rows[at(chain, 2)], seq=999, actor="mallory")
    chain.rows.append(copy)

    brk = (await verify(chain)).first_break
    assert brk is not None and (brk.kind, brk.chain_index) == (BreakKind.DUPLICATE, 2)


async def test_a_cut_tail_is_found_by_the_checkpoint(chain: ChainStore) -> None:
    cps = MemoryComplianceStore()
    evidence = _evidence(chain, cps)
    assert (
        await write_checkpoints(
            evidence=evidence,
            leases=Leases(),
            owner="me",
            clock=FakeClock(),
            every_us=1,  # type: ignore[arg-type]
        )
        == 2
    )  # alpha and beta
    assert (await verify(chain, cps)).checkpoints == 1
    del chain.rows[at(chain, ENTRIES)]

    brk = (await verify(chain, cps)).first_break
    assert brk is not None and (brk.kind, brk.chain_index) == (BreakKind.TRUNCATED, ENTRIES)


async def test_a_rewritten_chain_is_found_by_the_checkpoint(chain: ChainStore) -> None:
    cps = MemoryComplianceStore()
    await write_checkpoints(
        evidence=_evidence(chain, cps),
        leases=Leases(),
        owner="me",
        clock=FakeClock(),
        every_us=1,  # type: ignore[arg-type]
    )
    # Rewrite entry 8 and recompute its hash: every link still holds, the checkpoint not.
    row = at(chain, ENTRIES)
    forged = replace(chain.rows[row], actor="mallory")
    chain.rows[row] = replace(
        forged, hash=entry_hash(forged, chain_index=ENTRIES, prev_hash=forged.prev_hash)
    )

    brk = (await verify(chain, cps)).first_break
    assert brk is not None and (brk.kind, brk.chain_index) == (BreakKind.CHECKPOINT, ENTRIES)


async def test_a_forged_checkpoint_is_refused(chain: ChainStore) -> None:
    cps = MemoryComplianceStore()
    head = await chain.head("alpha")
    assert head is not None
    cps.saved_checkpoints.append(Checkpoint("alpha", 8, head.hash, NOW_US, "fake:1", "00"))
    cps.saved_checkpoints.append(Checkpoint("alpha", 7, "x", NOW_US, "someone-else", "00"))

    brk = (await verify(chain, cps)).first_break
    assert brk is not None and brk.kind is BreakKind.SIGNATURE and brk.chain_index == 7


async def test_no_checkpoint_seals_a_broken_chain(chain: ChainStore) -> None:
    cps = MemoryComplianceStore()
    row = at(chain, 2)
    chain.rows[row] = replace(chain.rows[row], detail={"i": 99})

    await write_checkpoints(
        evidence=_evidence(chain, cps),
        leases=Leases(),
        owner="me",
        clock=FakeClock(),
        every_us=1,  # type: ignore[arg-type]
    )
    assert [c.project for c in cps.saved_checkpoints] == ["beta"]


async def test_a_range_is_checked_from_its_first_entry(chain: ChainStore) -> None:
    del chain.rows[at(chain, 2)]  # before the range: not its business
    found = await verify_chain(
        "alpha",
        NOW_US + 4,
        NOW_US + 6,
        audit_store=chain,  # type: ignore[arg-type]
        compliance_store=MemoryComplianceStore(),
        signer=FakeSigner(),
    )
    assert found.verified and (found.first_index, found.last_index) == (5, 6)


def _evidence(chain: ChainStore, cps: MemoryComplianceStore) -> object:
    from domain.compliance.evidence import Evidence
    from domain.compliance.reviews import CompliancePolicy

    return Evidence(chain, cps, FakeSigner(), None, None, CompliancePolicy())  # type: ignore[arg-type]
