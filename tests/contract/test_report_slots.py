"""The report slot store: each scheduled slot is claimed once across instances, on every
adapter; a claim whose instance died lapses and is taken over."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import cast

import pytest

from domain.reports.slots import ReportSlotStore, SlotClaim, SlotStatus
from tests.contract.conftest import StoreDatabase, StoreFactory
from tests.contract.data import NOW_US, SECOND


@pytest.fixture
def slots(store_db: StoreDatabase) -> ReportSlotStore:
    return cast(ReportSlotStore, store_db.report_slots)  # type: ignore[attr-defined]


def claim(owner: str, slot: int = NOW_US, at: int = NOW_US, report: str = "r1") -> SlotClaim:
    return SlotClaim("alpha", report, slot, owner, "schedule", at)


async def test_one_of_many_concurrent_claims_wins_and_only_it_finishes(
    slots: ReportSlotStore,
) -> None:
    contenders = [claim(f"instance-{i}") for i in range(5)]
    won = await asyncio.gather(*(slots.claim_slot(c, until_us=NOW_US + SECOND) for c in contenders))
    assert sorted(won) == [False] * 4 + [True]
    winner = contenders[won.index(True)]
    loser = contenders[won.index(False)]

    assert not await slots.finish_slot(loser.finished(SlotStatus.OK, NOW_US + 5, run_id="x"))
    done = winner.finished(SlotStatus.OK, NOW_US + 5, run_id="run-1")
    assert await slots.finish_slot(done)
    assert not await slots.finish_slot(done)  # once
    assert await slots.slot_claims("alpha", "r1", first=10) == [done]
    # Finished: never claimed again, however late.
    assert not await slots.claim_slot(claim("late", at=NOW_US + 3600 * SECOND), until_us=1 << 62)


async def test_a_lapsed_claim_is_listed_and_taken_over(slots: ReportSlotStore) -> None:
    dead = claim("dead")
    assert await slots.claim_slot(dead, until_us=NOW_US + 10)
    assert await slots.lapsed_slots(NOW_US + 5) == []
    assert not await slots.claim_slot(claim("next", at=NOW_US + 5), until_us=NOW_US + 50)

    assert await slots.lapsed_slots(NOW_US + 10) == [dead]
    taker = claim("next", at=NOW_US + 11)
    assert await slots.claim_slot(taker, until_us=NOW_US + 50)
    assert await slots.lapsed_slots(NOW_US + 20) == []
    assert not await slots.finish_slot(dead.finished(SlotStatus.OK, NOW_US + 12))
    assert await slots.finish_slot(taker.finished(SlotStatus.FAILED, NOW_US + 13, error="boom"))
    [stored] = await slots.slot_claims("alpha", "r1", first=10)
    assert (stored.owner, stored.status, stored.error) == ("next", SlotStatus.FAILED, "boom")


async def test_the_last_slot_is_per_report_and_forgotten_with_it(slots: ReportSlotStore) -> None:
    assert await slots.last_slot("alpha", "r1") is None
    for slot in (NOW_US, NOW_US + 300 * SECOND, NOW_US - 300 * SECOND):
        assert await slots.claim_slot(claim("a", slot=slot), until_us=NOW_US + SECOND)
    assert await slots.claim_slot(claim("a", slot=NOW_US + 900 * SECOND, report="r2"), until_us=0)
    assert await slots.last_slot("alpha", "r1") == NOW_US + 300 * SECOND
    assert await slots.last_slot("beta", "r1") is None
    listed = await slots.slot_claims("alpha", "r1", first=2)
    assert [c.slot_us for c in listed] == [NOW_US + 300 * SECOND, NOW_US]

    assert await slots.forget_slots("alpha", "r1") == 3
    assert await slots.last_slot("alpha", "r1") is None
    assert await slots.last_slot("alpha", "r2") == NOW_US + 900 * SECOND


async def test_claims_survive_a_restart(store_factory: StoreFactory, tmp_path: Path) -> None:
    db = await store_factory(tmp_path)
    try:
        store = cast(ReportSlotStore, db.report_slots)  # type: ignore[attr-defined]
        assert await store.claim_slot(claim("a"), until_us=NOW_US + SECOND)
        assert await store.finish_slot(claim("a").finished(SlotStatus.SKIPPED, NOW_US))
    finally:
        await db.close()
    db = await store_factory(tmp_path)
    try:
        store = cast(ReportSlotStore, db.report_slots)  # type: ignore[attr-defined]
        [stored] = await store.slot_claims("alpha", "r1", first=5)
        assert stored.status is SlotStatus.SKIPPED
        assert not await store.claim_slot(claim("b", at=NOW_US + 10**12), until_us=1 << 62)
    finally:
        await db.close()


async def test_pruning_keeps_unfinished_claims_and_each_reports_newest(
    slots: ReportSlotStore,
) -> None:
    hour = 3600 * SECOND
    for report, hours in (("r1", (0, 1, 2, 3)), ("r2", (0,))):
        for h in hours:
            c = claim("a", slot=NOW_US + h * hour, report=report)
            assert await slots.claim_slot(c, until_us=NOW_US)
            if h != 1:  # r1's slot at +1 h stays unfinished (its instance died)
                assert await slots.finish_slot(c.finished(SlotStatus.OK, NOW_US + h * hour))
    assert await slots.prune_slots(NOW_US + 10 * hour) == 2  # r1's +0 and +2
    assert [c.slot_us for c in await slots.slot_claims("alpha", "r1", first=10)] == [
        NOW_US + 3 * hour,
        NOW_US + hour,
    ]
    assert await slots.last_slot("alpha", "r2") == NOW_US  # its only one stays
    assert await slots.prune_slots(NOW_US + 10 * hour) == 0


async def test_the_last_slots_of_every_report_in_one_read(slots: ReportSlotStore) -> None:
    assert await slots.last_slots() == {}
    for report, slot in (("r1", NOW_US), ("r1", NOW_US + SECOND), ("r2", NOW_US - SECOND)):
        assert await slots.claim_slot(claim("a", slot=slot, report=report), until_us=0)
    assert await slots.last_slots() == {
        ("alpha", "r1"): NOW_US + SECOND,
        ("alpha", "r2"): NOW_US - SECOND,
    }
