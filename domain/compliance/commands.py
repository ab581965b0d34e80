"""Compliance commands: access reviews and their decisions, revocations, checks on demand."""

from __future__ import annotations

from dataclasses import dataclass

from domain.commands import Command

__all__ = [
    "ApproveAccessCommand",
    "RestoreAccessCommand",
    "RevokeAccessCommand",
    "RunComplianceCheckCommand",
    "StartAccessReviewCommand",
]


@dataclass(frozen=True, slots=True)
class StartAccessReviewCommand(Command):
    """Snapshot who holds which role in the project, with flags, for reviewers to decide."""

    project: str
    actor: str = ""


@dataclass(frozen=True, slots=True)
class ApproveAccessCommand(Command):
    """A reviewer keeps a subject's access, as the review saw it."""

    project: str
    review_id: str
    subject: str
    comment: str = ""
    actor: str = ""


@dataclass(frozen=True, slots=True)
class RevokeAccessCommand(Command):
    """Take a subject's access to the project away (`subject`), or one token's (`token_id`,
    its `jti`): refused on every instance within seconds, and after restarts. With
    `review_id`, it is also the review's decision for that subject."""

    project: str
    subject: str | None = None
    token_id: str | None = None
    review_id: str | None = None
    reason: str = ""
    actor: str = ""


@dataclass(frozen=True, slots=True)
class RestoreAccessCommand(Command):
    """Lift a revocation (a subject's or a token's) in the project."""

    project: str
    subject: str | None = None
    token_id: str | None = None
    reason: str = ""
    actor: str = ""


@dataclass(frozen=True, slots=True)
class RunComplianceCheckCommand(Command):
    """Run the project's compliance checks now (the schedule runs them daily) and announce
    the result (ComplianceCheckedEvent), as a scheduled run does."""

    project: str
    actor: str = ""
