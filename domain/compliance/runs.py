"""Compliance runs and checkpoints: the work the schedule does, once across instances.

A run checks one project and announces the result (ComplianceCheckedEvent). A scheduled
run covers one period (`slot`): several instances may try it at once, the store lets one
claim it (`claim_run`) and finish it (`finish_run`), and only the one that finished it
publishes, so each period's result is announced exactly once. A run whose instance died
is claimed again once its claim lapses.

A checkpoint signs the head of a chain, but only after the entries since the previous
checkpoint verified: a checkpoint never seals a chain already broken.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from domain.compliance.events import ComplianceCheckedEvent
from domain.compliance.evidence import Evidence, gather_checks
from domain.compliance.model import CheckStatus, ComplianceRun
from domain.compliance.verification import ChainWalk
from domain.events import Event
from domain.messagebus import Ask
from domain.ports import Clock, LeaseStore
from domain.system.model import GENESIS, Checkpoint

__all__ = ["CLAIM_US", "check_project", "write_checkpoints"]

logger = logging.getLogger("vigil.compliance")

CLAIM_US = 300_000_000  # a run not finished within 5 minutes is taken over
PAGE = 1_000
CHECKPOINT_LEASE = "compliance:checkpoints"

Publish = Callable[[Event], Awaitable[None]]


async def check_project(
    project: str,
    *,
    slot: str,
    start_us: int,
    scheduled: bool,
    owner: str,
    evidence: Evidence,
    ask: Ask,
    clock: Clock,
    publish: Publish,
) -> ComplianceRun | None:
    """Run the checks of [start, now) for `slot`; the finished run, or None when another
    instance has the slot (claimed, or already done)."""
    now = clock.now_us()
    run = ComplianceRun(project, slot, now, owner)
    if not await evidence.compliance_store.claim_run(run, until_us=now + CLAIM_US):
        return None
    results = await gather_checks(
        project, min(start_us, now - 1), now, now, evidence=evidence, ask=ask
    )
    done = ComplianceRun(project, slot, now, owner, tuple(results), clock.now_us())
    if not await evidence.compliance_store.finish_run(done):
        return None  # judged dead and taken over meanwhile: the other instance announces
    await publish(
        ComplianceCheckedEvent(
            project=project,
            run=slot,
            status=done.status.value,
            at_us=done.finished_us or now,
            results=[r.to_dict() for r in results],
            failing=[r.check for r in results if r.status is CheckStatus.FAIL],
            scheduled=scheduled,
        )
    )
    return done


async def write_checkpoints(
    *, evidence: Evidence, leases: LeaseStore, owner: str, clock: Clock, every_us: int
) -> int:
    """Sign the head of each project's chain that moved since its last checkpoint, at most
    once per `every_us`; the number written. One instance at a time (a lease)."""
    now = clock.now_us()
    if not await leases.acquire_lease(CHECKPOINT_LEASE, owner, now_us=now, ttl_us=CLAIM_US):
        return 0
    written = 0
    try:
        for project in await evidence.audit_store.projects():
            if await _checkpoint(project, evidence, now, every_us):
                written += 1
    finally:
        await leases.release_lease(CHECKPOINT_LEASE, owner)
    return written


async def _checkpoint(project: str, evidence: Evidence, now: int, every_us: int) -> bool:
    audit, store, signer = evidence.audit_store, evidence.compliance_store, evidence.signer
    head = await audit.head(project)
    last = await store.latest_checkpoint(project)
    if head is None or (last is not None and head.chain_index <= last.chain_index):
        return False
    if last is not None and now - last.at_us < every_us:
        return False
    if last is not None and not (
        signer.knows(last.key_id) and signer.verify(last.key_id, last.payload(), last.signature)
    ):
        logger.error("the last audit checkpoint of %r is not validly signed: none written", project)
        return False
    anchor = (last.chain_index, last.hash) if last is not None else (0, GENESIS)
    walk = ChainWalk(anchor, (), signer)
    after = anchor[0]
    while not walk.broken:
        page = await audit.chain(project, after_index=after, first=PAGE)
        if not page or not await asyncio.to_thread(walk.walk, page):
            break
        after = page[-1].chain_index
    walk.finish(head.chain_index, walked_to_head=not walk.broken)
    if walk.first_break is not None:
        logger.error(
            "audit chain of %r is broken (%s at %d): no checkpoint written",
            project,
            walk.first_break.kind.value,
            walk.first_break.chain_index,
        )
        return False
    # The head as walked: entries recorded during the walk wait for the next checkpoint.
    last_index, last_hash = walk.last_index, walk.last_hash
    if last_index == anchor[0]:
        return False
    unsigned = Checkpoint(project, last_index, last_hash, now, signer.key_id)
    signed = Checkpoint(
        project, last_index, last_hash, now, signer.key_id, signer.sign(unsigned.payload())
    )
    await store.save_checkpoint(signed)
    return True
