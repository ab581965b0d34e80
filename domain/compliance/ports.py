"""What compliance needs from outside: its store, the checkpoint signer, and the evidence
other parts keep (secrets at rest, retention of the storage tiers, collectors' clocks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from domain.compliance.model import (
    AccessReview,
    AccessUsage,
    ComplianceRun,
    RetentionStatus,
    Revocation,
    RevocationKind,
    SecretsStatus,
)
from domain.system.model import Checkpoint

__all__ = [
    "AuditSigner",
    "ClockSkews",
    "ComplianceStore",
    "RetentionEvidence",
    "SecretsAtRest",
]


class AuditSigner(Protocol):
    """Signs audit checkpoints (Ed25519) and verifies them under the keys it trusts."""

    @property
    def key_id(self) -> str: ...

    def sign(self, payload: bytes) -> str: ...

    def knows(self, key_id: str) -> bool: ...

    def verify(self, key_id: str, payload: bytes, signature: str) -> bool: ...


class ComplianceStore(Protocol):
    """Checkpoints, access seen, reviews, revocations and check runs, shared by every
    instance on the store."""

    async def save_checkpoint(self, checkpoint: Checkpoint) -> None: ...

    async def checkpoints(self, project: str) -> list[Checkpoint]:
        """Oldest (lowest index) first."""
        ...

    async def latest_checkpoint(self, project: str) -> Checkpoint | None: ...

    async def record_usage(self, usages: Sequence[AccessUsage]) -> None:
        """Merge each into what is stored for its (project, subject) (AccessUsage.merge)."""
        ...

    async def usage(self, project: str) -> list[AccessUsage]:
        """By subject."""
        ...

    async def save_review(self, review: AccessReview, *, expected_version: int | None) -> bool:
        """Insert (`expected_version` None), or replace the review stored at that version;
        False when it is no longer that version (nothing written)."""
        ...

    async def get_review(self, project: str, review_id: str) -> AccessReview | None: ...

    async def list_reviews(self, project: str, *, first: int) -> list[AccessReview]:
        """Newest first."""
        ...

    async def add_revocation(self, revocation: Revocation) -> bool:
        """False if the same (project, kind, value) is already revoked (nothing written)."""
        ...

    async def remove_revocation(self, project: str, kind: RevocationKind, value: str) -> bool: ...

    async def revocations(self, project: str | None = None) -> list[Revocation]:
        """Of one project, or of all (None); oldest first."""
        ...

    async def claim_run(self, run: ComplianceRun, *, until_us: int) -> bool:
        """Take the run of (project, slot) for `run.owner` until `until_us`: True if it was
        not there, or is unfinished and its claim has lapsed. Atomic across instances."""
        ...

    async def finish_run(self, run: ComplianceRun) -> bool:
        """Store the finished run if `run.owner` still holds it unfinished: True once per
        (project, slot), whatever the number of instances."""
        ...

    async def list_runs(self, project: str, *, first: int) -> list[ComplianceRun]:
        """Finished runs, newest first."""
        ...


class SecretsAtRest(Protocol):
    """How the store keeps a project's secrets (notification channels' secrets and URLs)."""

    async def secrets_status(self, project: str) -> SecretsStatus: ...


class RetentionEvidence(Protocol):
    """Filled by the storage tiers: None while retention policies do not exist."""

    async def retention(
        self, project: str, start_us: int, end_us: int
    ) -> RetentionStatus | None: ...


class ClockSkews(Protocol):
    """The clock offsets of a project's collectors, by source: seconds their newest point
    was ahead of (positive) or behind Vigil's clock when received."""

    def skews(self, project: str) -> dict[str, float]: ...
