"""Retention operations: read and set a project's policy, set and release its legal hold."""

from __future__ import annotations

from domain.commands import Command
from domain.storage.retention.commands import ReleaseLegalHoldCommand, SetLegalHoldCommand
from domain.storage.retention.queries import GetRetentionPolicyQuery
from domain.storage.retention.read_models import RetentionPolicyDto
from schema.context import Info
from schema.retention import RetentionPolicy, RetentionPolicyInput

__all__ = ["release_legal_hold", "retention_policy", "set_legal_hold", "set_retention_policy"]


async def _handle(info: Info, command: Command) -> RetentionPolicyDto:
    answer: RetentionPolicyDto = await info.context.bus.handle(
        command, actor=info.context.require_principal().subject, request_id=info.context.request_id
    )
    return answer


def _shown(answer: RetentionPolicyDto) -> RetentionPolicy:
    return RetentionPolicy.of(answer.policy, answer.raw_ceiling_us)


async def retention_policy(info: Info, project: str) -> RetentionPolicy:
    """The project's policy; the instance's defaults (version 0) when none was set."""
    return _shown(await info.context.bus.ask(GetRetentionPolicyQuery(project)))


async def set_retention_policy(
    info: Info, project: str, policy: RetentionPolicyInput, expected_version: int | None = None
) -> RetentionPolicy:
    """Replace the durations and overrides; the legal hold stays as it is. With
    `expectedVersion`, refused with CONFLICT if the policy changed since."""
    actor = info.context.require_principal().subject
    return _shown(await _handle(info, policy.to_command(project, actor, expected_version)))


async def set_legal_hold(info: Info, project: str, reason: str) -> RetentionPolicy:
    """Suspend every deletion of the project's data until released."""
    actor = info.context.require_principal().subject
    return _shown(await _handle(info, SetLegalHoldCommand(project, reason, actor)))


async def release_legal_hold(info: Info, project: str, reason: str = "") -> RetentionPolicy:
    actor = info.context.require_principal().subject
    return _shown(await _handle(info, ReleaseLegalHoldCommand(project, reason, actor)))
