"""Compliance types of the GraphQL schema: audit verification, access reviews, revocations,
reports (the RFC's ComplianceDto) and runs."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.compliance import model
from domain.compliance.read_models import (
    AccessReviewDto,
    AuditVerificationDto,
    ComplianceDto,
)
from domain.compliance.verification import BreakKind
from schema.scalars import JSONObject
from schema.types import from_us

__all__ = [
    "AccessDecision",
    "AccessFlag",
    "AccessReview",
    "AccessReviewRecord",
    "AccessSubject",
    "AuditBreak",
    "AuditBreakKind",
    "AuditCheckpoint",
    "AuditVerification",
    "CheckOutcome",
    "ComplianceControl",
    "ComplianceFramework",
    "ComplianceReport",
    "ComplianceRun",
    "ControlStatus",
    "Revocation",
    "RevocationKind",
]

ComplianceFramework = strawberry.enum(model.Framework, name="ComplianceFramework")
ControlStatus = strawberry.enum(
    model.CheckStatus, name="ControlStatus", description="PASS, FAIL or NOT_APPLICABLE."
)
AuditBreakKind = strawberry.enum(
    BreakKind,
    name="AuditBreakKind",
    description="EDITED: an entry no longer matches its hash; MOVED: entries were reordered; "
    "LINK: an entry's predecessor was replaced; MISSING: entries were deleted; DUPLICATE: an "
    "entry was inserted; CHECKPOINT: a signed checkpoint names another hash; TRUNCATED: "
    "entries were cut from the end; SIGNATURE: a checkpoint's signature does not verify.",
)
AccessFlag = strawberry.enum(model.AccessFlag, name="AccessFlag")
RevocationKind = strawberry.enum(model.RevocationKind, name="RevocationKind")


@strawberry.type(description="A signed statement of a chain's head (Ed25519).")
class AuditCheckpoint:
    chain_index: int
    hash: str
    at: datetime
    key_id: str


@strawberry.type(description="Where the chain breaks first, and how.")
class AuditBreak:
    kind: AuditBreakKind  # type: ignore[valid-type]
    chain_index: int
    seq: int = strawberry.field(description="The entry's seq (0 when no entry holds it).")
    detail: str


@strawberry.type(description="What verifyAuditLog checked and found.")
class AuditVerification:
    project: str
    verified: bool
    entries_checked: int
    first_index: int
    last_index: int
    head_index: int
    checkpoints_verified: int
    unsealed_entries: int = strawberry.field(
        description="Entries after the last checkpoint: linked, not yet signed."
    )
    last_checkpoint: AuditCheckpoint | None
    first_break: AuditBreak | None

    @classmethod
    def of(cls, v: AuditVerificationDto) -> AuditVerification:
        cp, brk = v.last_checkpoint, v.first_break
        return cls(
            project=v.project,
            verified=v.verified,
            entries_checked=v.entries,
            first_index=v.first_index,
            last_index=v.last_index,
            head_index=v.head_index,
            checkpoints_verified=v.checkpoints,
            unsealed_entries=v.unsealed,
            last_checkpoint=None
            if cp is None
            else AuditCheckpoint(
                chain_index=cp.chain_index, hash=cp.hash, at=from_us(cp.at_us), key_id=cp.key_id
            ),
            first_break=None
            if brk is None
            else AuditBreak(
                kind=brk.kind, chain_index=brk.chain_index, seq=brk.seq, detail=brk.detail
            ),
        )


@strawberry.type(description="A subject seen with a role in the project, and its flags.")
class AccessSubject:
    subject: str
    role: str
    first_used: datetime
    last_used: datetime
    idle_days: float
    used: list[str] = strawberry.field(description="Permissions it exercised.")
    flags: list[AccessFlag]  # type: ignore[valid-type]
    suggested_role: str | None
    longest_token_days: float | None
    last_token_id: str

    @classmethod
    def of(cls, s: model.ReviewedSubject) -> AccessSubject:
        return cls(
            subject=s.subject,
            role=s.role,
            first_used=from_us(s.first_us),
            last_used=from_us(s.last_us),
            idle_days=s.idle_days,
            used=list(s.used),
            flags=[model.AccessFlag(f) for f in s.flags],
            suggested_role=s.suggested_role or None,
            longest_token_days=s.longest_token_days,
            last_token_id=s.last_token_id,
        )


@strawberry.type(description="A revoked subject or token of the project.")
class Revocation:
    kind: RevocationKind  # type: ignore[valid-type]
    value: str
    at: datetime
    by: str
    reason: str
    review_id: str | None

    @classmethod
    def of(cls, r: model.Revocation) -> Revocation:
        return cls(
            kind=r.kind,
            value=r.value,
            at=from_us(r.at_us),
            by=r.by,
            reason=r.reason,
            review_id=r.review_id or None,
        )


@strawberry.type(description="The project's access now (accessReview).")
class AccessReview:
    project: str
    generated_at: datetime
    subjects: list[AccessSubject]
    revocations: list[Revocation]

    @classmethod
    def of(cls, r: AccessReviewDto) -> AccessReview:
        return cls(
            project=r.project,
            generated_at=from_us(r.generated_us),
            subjects=[AccessSubject.of(s) for s in r.subjects],
            revocations=[Revocation.of(x) for x in r.revocations],
        )


@strawberry.type
class AccessDecision:
    subject: str
    decision: str
    by: str
    at: datetime
    comment: str


@strawberry.type(description="A started review: its snapshot and the decisions so far.")
class AccessReviewRecord:
    id: strawberry.ID
    project: str
    started_at: datetime
    started_by: str
    completed_at: datetime | None
    version: int
    subjects: list[AccessSubject]
    decisions: list[AccessDecision]
    pending: list[str] = strawberry.field(description="Subjects without a decision yet.")

    @classmethod
    def of(cls, r: model.AccessReview) -> AccessReviewRecord:
        decided = {d.subject for d in r.decisions}
        return cls(
            id=strawberry.ID(r.id),
            project=r.project,
            started_at=from_us(r.started_us),
            started_by=r.started_by,
            completed_at=from_us(r.completed_us) if r.completed_us is not None else None,
            version=r.version,
            subjects=[AccessSubject.of(s) for s in r.subjects],
            decisions=[
                AccessDecision(
                    subject=d.subject,
                    decision=d.kind.value,
                    by=d.by,
                    at=from_us(d.at_us),
                    comment=d.comment,
                )
                for d in r.decisions
            ],
            pending=[s.subject for s in r.subjects if s.subject not in decided],
        )


@strawberry.type(description="One control of the framework and the check that evidences it.")
class ComplianceControl:
    id: str
    title: str
    check: str
    status: ControlStatus  # type: ignore[valid-type]
    detail: str
    evidence: JSONObject


@strawberry.type(description="The RFC's ComplianceDto.")
class ComplianceReport:
    project: str
    framework: ComplianceFramework  # type: ignore[valid-type]
    from_: datetime = strawberry.field(name="from")
    to: datetime
    generated_at: datetime
    status: ControlStatus  # type: ignore[valid-type]
    controls: list[ComplianceControl]

    @classmethod
    def of(cls, r: ComplianceDto) -> ComplianceReport:
        return cls(
            project=r.project,
            framework=r.framework,
            from_=from_us(r.start_us),
            to=from_us(r.end_us),
            generated_at=from_us(r.generated_us),
            status=r.status,
            controls=[
                ComplianceControl(
                    id=c.id,
                    title=c.title,
                    check=c.check,
                    status=c.status,
                    detail=c.detail,
                    evidence=JSONObject(c.evidence),
                )
                for c in r.controls
            ],
        )


@strawberry.type(description="One result of a compliance check.")
class CheckOutcome:
    check: str
    status: ControlStatus  # type: ignore[valid-type]
    detail: str
    evidence: JSONObject


@strawberry.type(description="A compliance run: scheduled, or asked for.")
class ComplianceRun:
    project: str
    run: str
    status: ControlStatus  # type: ignore[valid-type]
    started_at: datetime
    finished_at: datetime | None
    instance: str
    results: list[CheckOutcome]

    @classmethod
    def of(cls, r: model.ComplianceRun) -> ComplianceRun:
        return cls(
            project=r.project,
            run=r.slot,
            status=r.status,
            started_at=from_us(r.started_us),
            finished_at=from_us(r.finished_us) if r.finished_us is not None else None,
            instance=r.owner,
            results=[
                CheckOutcome(
                    check=x.check,
                    status=x.status,
                    detail=x.detail,
                    evidence=JSONObject(x.evidence),
                )
                for x in r.results
            ],
        )
