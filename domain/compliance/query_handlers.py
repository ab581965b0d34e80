"""Compliance query handlers: audit verification, access reviews, reports and runs."""

from __future__ import annotations

from domain.compliance.controls import CONTROLS
from domain.compliance.evidence import Evidence, gather_checks, verify_chain
from domain.compliance.model import AccessReview, ComplianceRun, Revocation
from domain.compliance.ports import AuditSigner, ComplianceStore
from domain.compliance.queries import (
    GetAccessReviewQuery,
    GetComplianceReportQuery,
    ListAccessReviewsQuery,
    ListComplianceRunsQuery,
    ListRevocationsQuery,
    VerifyAuditLogQuery,
)
from domain.compliance.read_models import (
    AccessReviewDto,
    AuditVerificationDto,
    ComplianceDto,
    ControlDto,
)
from domain.compliance.reviews import CompliancePolicy, review_lines
from domain.compliance.runtime.ledger import AccessLedger
from domain.errors import BadUserInput
from domain.messagebus import Ask
from domain.paging import check_first
from domain.ports import Clock
from domain.system.ports import AuditStore

__all__ = [
    "access_review",
    "access_reviews",
    "compliance_report",
    "compliance_runs",
    "revocations",
    "verify_audit_log",
]

MAX_REPORT_US = 400 * 86_400_000_000  # a little over a year: an audit period


async def verify_audit_log(
    query: VerifyAuditLogQuery,
    *,
    audit_store: AuditStore,
    compliance_store: ComplianceStore,
    audit_signer: AuditSigner,
) -> AuditVerificationDto:
    if query.start_us is not None and query.end_us is not None and query.start_us >= query.end_us:
        raise BadUserInput("from must be before to")
    return await verify_chain(
        query.project,
        query.start_us,
        query.end_us,
        audit_store=audit_store,
        compliance_store=compliance_store,
        signer=audit_signer,
    )


async def access_review(
    query: GetAccessReviewQuery,
    *,
    compliance_store: ComplianceStore,
    access_ledger: AccessLedger,
    clock: Clock,
    compliance_policy: CompliancePolicy,
) -> AccessReviewDto:
    await access_ledger.flush()
    now = clock.now_us()
    revoked = await compliance_store.revocations(query.project)
    lines = review_lines(
        await compliance_store.usage(query.project), revoked, now_us=now, policy=compliance_policy
    )
    return AccessReviewDto(query.project, now, lines, revoked)


async def access_reviews(
    query: ListAccessReviewsQuery, *, compliance_store: ComplianceStore
) -> list[AccessReview]:
    return await compliance_store.list_reviews(query.project, first=check_first(query.first))


async def revocations(
    query: ListRevocationsQuery, *, compliance_store: ComplianceStore
) -> list[Revocation]:
    return await compliance_store.revocations(query.project)


async def compliance_report(
    query: GetComplianceReportQuery, *, compliance_evidence: Evidence, ask: Ask, clock: Clock
) -> ComplianceDto:
    if query.start_us >= query.end_us:
        raise BadUserInput("from must be before to")
    if query.end_us - query.start_us > MAX_REPORT_US:
        raise BadUserInput("a report covers at most 400 days")
    now = clock.now_us()
    results = {
        r.check: r
        for r in await gather_checks(
            query.project,
            query.start_us,
            min(query.end_us, now),
            now,
            evidence=compliance_evidence,
            ask=ask,
        )
    }
    controls = [
        ControlDto(
            c.id,
            c.title,
            c.check,
            results[c.check].status,
            results[c.check].detail,
            results[c.check].evidence,
        )
        for c in CONTROLS[query.framework]
    ]
    return ComplianceDto(
        query.project, query.framework, query.start_us, query.end_us, now, controls
    )


async def compliance_runs(
    query: ListComplianceRunsQuery, *, compliance_store: ComplianceStore
) -> list[ComplianceRun]:
    return await compliance_store.list_runs(query.project, first=check_first(query.first))
