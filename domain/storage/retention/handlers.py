"""Retention command handlers: a project's policy and its legal hold, checked then stored
(compare-and-set on the version), noted for the audit trail."""

from __future__ import annotations

from typing import Any

from domain.changes import note_changes, note_target
from domain.errors import BadUserInput, Conflict
from domain.events import Event
from domain.ports import Clock
from domain.storage.retention.commands import (
    ReleaseLegalHoldCommand,
    SetLegalHoldCommand,
    SetRetentionPolicyCommand,
)
from domain.storage.retention.events import RetentionPolicyChangedEvent
from domain.storage.retention.model import MAX_REASON, LegalHold, RetentionPolicy
from domain.storage.retention.read_models import RetentionPolicyDto
from domain.storage.retention.runtime import PolicyBook

__all__ = ["release_legal_hold", "set_legal_hold", "set_retention_policy"]


async def set_retention_policy(
    command: SetRetentionPolicyCommand,
    events: list[Event],
    *,
    retention_book: PolicyBook,
    clock: Clock,
) -> RetentionPolicyDto:
    current = await retention_book.stored(command.project)
    if command.expected_version is not None and command.expected_version != current.version:
        raise Conflict(f"the retention policy of {command.project!r}", current.version)
    policy = RetentionPolicy(
        project=command.project,
        keep_us={**retention_book.defaults.keep_us, **command.keep_us},
        overrides=command.overrides,
        hold=current.hold,
    )
    policy.validate(raw_ceiling_us=retention_book.defaults.raw_ceiling_us)
    return await _save(retention_book, current, policy, command.actor, clock, events)


async def set_legal_hold(
    command: SetLegalHoldCommand, events: list[Event], *, retention_book: PolicyBook, clock: Clock
) -> RetentionPolicyDto:
    reason = command.reason.strip()
    if not 0 < len(reason) <= MAX_REASON:
        raise BadUserInput(f"a legal hold needs a reason of 1 to {MAX_REASON} characters")
    current = await retention_book.stored(command.project)
    hold = LegalHold(reason, command.actor, clock.now_us())
    return await _save(
        retention_book, current, current.with_hold(hold), command.actor, clock, events
    )


async def release_legal_hold(
    command: ReleaseLegalHoldCommand,
    events: list[Event],
    *,
    retention_book: PolicyBook,
    clock: Clock,
) -> RetentionPolicyDto:
    if len(command.reason) > MAX_REASON:
        raise BadUserInput(f"a reason has at most {MAX_REASON} characters")
    current = await retention_book.stored(command.project)
    if current.hold is None:
        raise BadUserInput(f"project {command.project!r} has no legal hold to release")
    released = current.with_hold(None)
    return await _save(retention_book, current, released, command.actor, clock, events)


async def _save(
    book: PolicyBook,
    current: RetentionPolicy,
    wanted: RetentionPolicy,
    actor: str,
    clock: Clock,
    events: list[Event],
) -> RetentionPolicyDto:
    policy = RetentionPolicy(
        project=wanted.project,
        keep_us=wanted.keep_us,
        overrides=wanted.overrides,
        hold=wanted.hold,
        version=current.version + 1,
        updated_by=actor,
        updated_us=clock.now_us(),
    )
    if not await book.store.save_retention_policy(policy, expected_version=current.version):
        raise Conflict(f"the retention policy of {policy.project!r}", current.version + 1)
    note_target(project=policy.project, policy_version=str(policy.version))
    note_changes(_audited(current), _audited(policy))
    book.changed(policy)
    events.append(RetentionPolicyChangedEvent(project=policy.project, policy=policy.to_dict()))
    return RetentionPolicyDto(policy, book.defaults.raw_ceiling_us)


def _audited(policy: RetentionPolicy) -> dict[str, Any]:
    return {
        "keep_us": dict(policy.keep_us),
        "overrides": [o.to_dict() for o in policy.overrides],
        "legal_hold": None if policy.hold is None else policy.hold.to_dict(),
    }
