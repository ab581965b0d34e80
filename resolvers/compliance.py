"""Compliance operations: audit verification, access reviews and revocations, reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from domain.commands import Command
from domain.compliance.commands import (
    ApproveAccessCommand,
    RestoreAccessCommand,
    RevokeAccessCommand,
    RunComplianceCheckCommand,
    StartAccessReviewCommand,
)
from domain.compliance.model import Framework
from domain.compliance.queries import (
    GetAccessReviewQuery,
    GetComplianceReportQuery,
    ListAccessReviewsQuery,
    ListComplianceRunsQuery,
    ListRevocationsQuery,
    VerifyAuditLogQuery,
)
from domain.errors import BadUserInput
from schema.compliance import (
    AccessReview,
    AccessReviewRecord,
    AuditVerification,
    ComplianceFramework,
    ComplianceReport,
    ComplianceRun,
    Revocation,
)
from schema.context import Info
from schema.types import to_us

__all__ = [
    "access_review",
    "access_reviews",
    "approve_access",
    "compliance_checks",
    "compliance_report",
    "restore_access",
    "revocations",
    "revoke_access",
    "run_compliance_check",
    "start_access_review",
    "verify_audit_log",
]

From = Annotated[datetime | None, strawberry.argument(name="from")]
DAY_US = 86_400_000_000


async def _handle(info: Info, command: Command) -> Any:
    return await info.context.bus.handle(
        command, actor=_actor(info), request_id=info.context.request_id
    )


def _actor(info: Info) -> str:
    return info.context.require_principal().subject


async def verify_audit_log(
    info: Info, project: str, from_: From = None, to: datetime | None = None
) -> AuditVerification:
    """Walk the project's audit chain and signed checkpoints over [from, to) (all by
    default); `firstBreak` locates an entry edited, deleted, inserted or moved."""
    found = await info.context.bus.ask(VerifyAuditLogQuery(project, to_us(from_), to_us(to)))
    return AuditVerification.of(found)


async def access_review(info: Info, project: str) -> AccessReview:
    """Every subject seen with a role in the project (from the tokens used), its first and
    last use, idle time and flags."""
    return AccessReview.of(await info.context.bus.ask(GetAccessReviewQuery(project)))


async def access_reviews(info: Info, project: str, first: int = 20) -> list[AccessReviewRecord]:
    """Reviews started in the project, newest first, with their decisions."""
    found = await info.context.bus.ask(ListAccessReviewsQuery(project, first))
    return [AccessReviewRecord.of(r) for r in found]


async def revocations(info: Info, project: str) -> list[Revocation]:
    return [Revocation.of(r) for r in await info.context.bus.ask(ListRevocationsQuery(project))]


async def compliance_report(
    info: Info,
    project: str,
    framework: ComplianceFramework,  # type: ignore[valid-type]
    from_: From = None,
    to: datetime | None = None,
) -> ComplianceReport:
    """GetComplianceReportQuery: each control of the framework with its status, evidence
    and detail; the last 90 days by default."""
    end = to_us(to)
    if end is None:
        end = info.context.clock.now_us()
    start = to_us(from_)
    if start is None:
        start = end - 90 * DAY_US
    query = GetComplianceReportQuery(project, Framework(framework), start, end)
    return ComplianceReport.of(await info.context.bus.ask(query))


async def compliance_checks(info: Info, project: str, first: int = 20) -> list[ComplianceRun]:
    """The project's compliance runs, newest first."""
    found = await info.context.bus.ask(ListComplianceRunsQuery(project, first))
    return [ComplianceRun.of(r) for r in found]


async def start_access_review(info: Info, project: str) -> AccessReviewRecord:
    """Snapshot the project's access for reviewers to decide, subject by subject."""
    review = await _handle(info, StartAccessReviewCommand(project, actor=_actor(info)))
    return AccessReviewRecord.of(review)


async def approve_access(
    info: Info, project: str, review_id: strawberry.ID, subject: str, comment: str = ""
) -> AccessReviewRecord:
    command = ApproveAccessCommand(project, str(review_id), subject, comment, actor=_actor(info))
    return AccessReviewRecord.of(await _handle(info, command))


async def revoke_access(
    info: Info,
    project: str,
    subject: str | None = None,
    token_id: strawberry.ID | None = None,
    review_id: strawberry.ID | None = None,
    reason: str = "",
) -> Revocation:
    """Refuse a subject (every token of it) or one token (its `jti`) in the project, on
    every instance within seconds, live websockets included; kept across restarts."""
    command = RevokeAccessCommand(
        project,
        subject=subject,
        token_id=None if token_id is None else str(token_id),
        review_id=None if review_id is None else str(review_id),
        reason=reason,
        actor=_actor(info),
    )
    return Revocation.of(await _handle(info, command))


async def restore_access(
    info: Info,
    project: str,
    subject: str | None = None,
    token_id: strawberry.ID | None = None,
    reason: str = "",
) -> bool:
    """Lift a revocation."""
    command = RestoreAccessCommand(
        project,
        subject=subject,
        token_id=None if token_id is None else str(token_id),
        reason=reason,
        actor=_actor(info),
    )
    done: bool = await _handle(info, command)
    return done


async def run_compliance_check(info: Info, project: str) -> ComplianceRun:
    """Run the project's checks now and announce them (complianceChecked)."""
    if not project:
        raise BadUserInput("project is required")
    run = await _handle(info, RunComplianceCheckCommand(project, actor=_actor(info)))
    return ComplianceRun.of(run)
