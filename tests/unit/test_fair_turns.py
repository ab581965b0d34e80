"""Fair commit turns (infra/admission/fair.py): when every slot is taken, waiting projects
are served round robin, so one batch of a quiet project does not wait behind a flood."""

from __future__ import annotations

import asyncio

from infra.admission.fair import FairTurns


async def test_waiting_projects_take_turns_round_robin() -> None:
    turns = FairTurns(slots=1)
    order: list[str] = []
    release = asyncio.Event()

    async def commit(project: str, hold: bool = False) -> None:
        async with turns.turn(project):
            order.append(project)
            if hold:
                await release.wait()

    first = asyncio.create_task(commit("noisy", hold=True))  # takes the only slot
    await asyncio.sleep(0)
    flood = [asyncio.create_task(commit("noisy")) for _ in range(5)]
    await asyncio.sleep(0)
    quiet = asyncio.create_task(commit("calm"))
    await asyncio.sleep(0)
    release.set()
    await asyncio.gather(first, *flood, quiet)
    # the quiet project's batch goes second, not after the five queued before it
    assert order == ["noisy", "noisy", "calm", "noisy", "noisy", "noisy", "noisy"]
    assert turns.running == 0


async def test_a_cancelled_waiter_gives_up_its_place_and_no_slot_is_lost() -> None:
    turns = FairTurns(slots=1)
    release = asyncio.Event()

    async def commit(project: str, hold: bool = False) -> None:
        async with turns.turn(project):
            if hold:
                await release.wait()

    holder = asyncio.create_task(commit("a", hold=True))
    await asyncio.sleep(0)
    gone = asyncio.create_task(commit("b"))
    await asyncio.sleep(0)
    gone.cancel()
    release.set()
    await holder
    await asyncio.gather(gone, return_exceptions=True)
    assert turns.running == 0
    await asyncio.wait_for(commit("c"), 1)  # the slot is free again
