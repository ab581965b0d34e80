"""Compliance command handlers (reviews, decisions, revocations, checks on demand) and the
event handlers that keep each instance's revocations and clock offsets current."""

from __future__ import annotations

import uuid

from domain.changes import note_changes, note_target
from domain.compliance.commands import (
    ApproveAccessCommand,
    RestoreAccessCommand,
    RevokeAccessCommand,
    RunComplianceCheckCommand,
    StartAccessReviewCommand,
)
from domain.compliance.events import AccessRevokedEvent
from domain.compliance.evidence import Evidence
from domain.compliance.model import (
    AccessReview,
    ComplianceRun,
    Decision,
    DecisionKind,
    Revocation,
    RevocationKind,
)
from domain.compliance.ports import ComplianceStore
from domain.compliance.reviews import CompliancePolicy, review_lines
from domain.compliance.runs import check_project
from domain.compliance.runtime.clocks import ClockOffsets
from domain.compliance.runtime.ledger import AccessLedger
from domain.compliance.runtime.revocations import RevocationList
from domain.errors import BadUserInput, Conflict, NotFound
from domain.events import Event
from domain.messagebus import Ask
from domain.metrics.events import MetricCollectedEvent
from domain.ports import Clock

__all__ = [
    "apply_revocation",
    "approve_access",
    "observe_clock_offsets",
    "restore_access",
    "revoke_access",
    "run_compliance_check",
    "start_access_review",
]

MAX_REASON = 1_000


async def start_access_review(
    command: StartAccessReviewCommand,
    events: list[Event],
    *,
    compliance_store: ComplianceStore,
    access_ledger: AccessLedger,
    clock: Clock,
    compliance_policy: CompliancePolicy,
) -> AccessReview:
    await access_ledger.flush()  # what this instance saw a moment ago belongs in the snapshot
    now = clock.now_us()
    lines = review_lines(
        await compliance_store.usage(command.project),
        await compliance_store.revocations(command.project),
        now_us=now,
        policy=compliance_policy,
    )
    review = AccessReview(uuid.uuid4().hex, command.project, now, command.actor, tuple(lines))
    await compliance_store.save_review(review, expected_version=None)
    note_target(review=review.id)
    note_changes(None, {"subjects": [s.subject for s in lines]})
    return review


async def approve_access(
    command: ApproveAccessCommand,
    events: list[Event],
    *,
    compliance_store: ComplianceStore,
    clock: Clock,
) -> AccessReview:
    decision = Decision(
        command.subject, DecisionKind.APPROVE, command.actor, clock.now_us(), command.comment
    )
    return await _decide(compliance_store, command.project, command.review_id, decision)


async def revoke_access(
    command: RevokeAccessCommand,
    events: list[Event],
    *,
    compliance_store: ComplianceStore,
    clock: Clock,
) -> Revocation:
    kind, value = _revoked(command.subject, command.token_id)
    if len(command.reason) > MAX_REASON:
        raise BadUserInput(f"reason holds at most {MAX_REASON} characters")
    now = clock.now_us()
    if command.review_id is not None:
        if kind is not RevocationKind.SUBJECT:
            raise BadUserInput("a review decides about subjects: give subject, not tokenId")
        decision = Decision(value, DecisionKind.REVOKE, command.actor, now, command.reason)
        await _decide(compliance_store, command.project, command.review_id, decision)
    revocation = Revocation(
        command.project, kind, value, now, command.actor, command.reason, command.review_id or ""
    )
    note_target(**{kind.value: value}, review=command.review_id)
    if not await compliance_store.add_revocation(revocation):
        note_changes({"revoked": True}, {"revoked": True})  # already revoked: nothing new
        known = await compliance_store.revocations(command.project)
        return next(r for r in known if (r.kind, r.value) == (kind, value))
    note_changes({"revoked": False}, {"revoked": True, "reason": command.reason})
    events.append(
        AccessRevokedEvent(command.project, kind.value, value, now, command.actor, revoked=True)
    )
    return revocation


async def restore_access(
    command: RestoreAccessCommand,
    events: list[Event],
    *,
    compliance_store: ComplianceStore,
    clock: Clock,
) -> bool:
    kind, value = _revoked(command.subject, command.token_id)
    note_target(**{kind.value: value})
    if not await compliance_store.remove_revocation(command.project, kind, value):
        raise NotFound(f"no revocation of {kind.value} {value!r} in project {command.project!r}")
    note_changes({"revoked": True}, {"revoked": False, "reason": command.reason})
    events.append(
        AccessRevokedEvent(
            command.project, kind.value, value, clock.now_us(), command.actor, revoked=False
        )
    )
    return True


async def run_compliance_check(
    command: RunComplianceCheckCommand,
    events: list[Event],
    *,
    compliance_evidence: Evidence,
    ask: Ask,
    clock: Clock,
    instance_name: str,
    compliance_check_seconds: float,
) -> ComplianceRun:
    async def collect(event: Event) -> None:
        events.append(event)  # published by the bus once the command is audited

    now = clock.now_us()
    run = await check_project(
        command.project,
        slot=f"manual-{uuid.uuid4().hex}",
        start_us=now - int(compliance_check_seconds * 1_000_000),
        scheduled=False,
        owner=instance_name,
        evidence=compliance_evidence,
        ask=ask,
        clock=clock,
        publish=collect,
    )
    assert run is not None  # a fresh slot is never claimed by anyone else
    note_target(run=run.slot)
    note_changes(None, {"status": run.status.value})
    return run


async def apply_revocation(event: AccessRevokedEvent, *, revocation_list: RevocationList) -> None:
    """In the instance that made it, at once (the others hear it over the event bus)."""
    revocation_list.apply_event(event)


async def observe_clock_offsets(
    event: MetricCollectedEvent, *, clock_offsets: ClockOffsets
) -> None:
    """Feeds the collectors' clock offsets (in the ingesting process)."""
    if event.project != "system":  # Vigil's own points are stamped by Vigil's clock
        clock_offsets.observe(event)


async def _decide(
    store: ComplianceStore, project: str, review_id: str, decision: Decision
) -> AccessReview:
    review = await store.get_review(project, review_id)
    if review is None:
        raise NotFound(f"no access review {review_id!r} in project {project!r}")
    if all(s.subject != decision.subject for s in review.subjects):
        raise BadUserInput(f"review {review_id!r} has no subject {decision.subject!r}")
    before = review.decision(decision.subject)
    decided = review.decide(decision)
    if not await store.save_review(decided, expected_version=review.version):
        current = await store.get_review(project, review_id)
        raise Conflict("access review", current.version if current else review.version)
    note_target(review=review_id, subject=decision.subject)
    note_changes(
        {"decision": before.kind.value if before else None},
        {"decision": decision.kind.value, "comment": decision.comment},
    )
    return decided


def _revoked(subject: str | None, token_id: str | None) -> tuple[RevocationKind, str]:
    if (subject is None) == (token_id is None):
        raise BadUserInput("give exactly one of subject and tokenId")
    value = (subject or token_id or "").strip()
    if not 1 <= len(value) <= 256:
        raise BadUserInput("subject or tokenId must hold 1 to 256 characters")
    return (RevocationKind.SUBJECT, value) if subject is not None else (RevocationKind.TOKEN, value)
