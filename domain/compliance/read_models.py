"""Compliance read models: the RFC's ComplianceDto (a report), audit verification, access."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.compliance.model import (
    AccessReview,
    CheckStatus,
    Framework,
    ReviewedSubject,
    Revocation,
)
from domain.compliance.verification import ChainBreak
from domain.system.model import Checkpoint

__all__ = [
    "AccessReviewDto",
    "AuditVerificationDto",
    "ComplianceDto",
    "ControlDto",
    "StoredReviewDto",
]


@dataclass(frozen=True, slots=True)
class AuditVerificationDto:
    """What `verifyAuditLog` found: how much it checked and the first break, if any."""

    project: str
    start_us: int | None
    end_us: int | None
    entries: int  # entries whose hash and link were checked
    first_index: int
    last_index: int
    head_index: int
    checkpoints: int  # checkpoints verified (signature, and hash at their index)
    last_checkpoint: Checkpoint | None
    first_break: ChainBreak | None

    @property
    def verified(self) -> bool:
        return self.first_break is None

    @property
    def unsealed(self) -> int:
        """Entries after the last checkpoint: linked, but not yet covered by a signature."""
        covered = self.last_checkpoint.chain_index if self.last_checkpoint else 0
        return max(0, self.head_index - covered)


@dataclass(frozen=True, slots=True)
class AccessReviewDto:
    """The project's access now: each subject seen with a role, and the revocations."""

    project: str
    generated_us: int
    subjects: list[ReviewedSubject]
    revocations: list[Revocation]


@dataclass(frozen=True, slots=True)
class StoredReviewDto:
    review: AccessReview


@dataclass(frozen=True, slots=True)
class ControlDto:
    """One control of a framework, with the status, evidence and detail of its check."""

    id: str
    title: str
    check: str
    status: CheckStatus
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ComplianceDto:
    project: str
    framework: Framework
    start_us: int
    end_us: int
    generated_us: int
    controls: list[ControlDto]

    @property
    def status(self) -> CheckStatus:
        if any(c.status is CheckStatus.FAIL for c in self.controls):
            return CheckStatus.FAIL
        return CheckStatus.PASS
