"""Compliance values: access seen per subject, reviews and their decisions, revocations,
check results and scheduled runs; each stored as the JSON of its `to_dict()`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

from domain.access import Permission, Principal, Role

__all__ = [
    "AccessFlag",
    "AccessReview",
    "AccessUsage",
    "CheckResult",
    "CheckStatus",
    "ComplianceRun",
    "Decision",
    "DecisionKind",
    "Framework",
    "RetentionStatus",
    "ReviewedSubject",
    "Revocation",
    "RevocationKind",
    "SecretsStatus",
]


class Framework(StrEnum):
    SOC2 = "SOC2"
    ISO27001 = "ISO27001"


class CheckStatus(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


class AccessFlag(StrEnum):
    STALE_PRIVILEGE = "stale_privilege"  # admin or editor unused for 90 days
    NO_EXPIRY = "no_expiry"  # a token without an expiry was used
    LONG_LIVED_TOKEN = "long_lived_token"  # a token valid longer than the limit was used
    ROLE_BEYOND_USE = "role_beyond_use"  # the role grants more than was ever used
    REVOKED = "revoked"


class RevocationKind(StrEnum):
    SUBJECT = "subject"  # every token of the subject, in the project
    TOKEN = "token"  # one token, by its `jti`


class DecisionKind(StrEnum):
    APPROVE = "approve"
    REVOKE = "revoke"


@dataclass(frozen=True, slots=True)
class AccessUsage:
    """A subject seen with a role in a project: from its tokens' use, merged across
    instances (first use the earliest, last use the latest, permissions used the union)."""

    project: str
    subject: str
    role: str
    first_us: int
    last_us: int
    used: frozenset[str] = frozenset()  # Permission values exercised
    longest_token_s: int | None = None  # the longest lifetime of a token used
    no_expiry: bool = False  # a token without `exp` was used
    last_token_id: str = ""

    @classmethod
    def seen(cls, principal: Principal, project: str, used: Permission, now_us: int) -> AccessUsage:
        lifetime = None
        if principal.expires_at is not None:
            start = principal.issued_at if principal.issued_at is not None else now_us / 1e6
            lifetime = max(0, int(principal.expires_at - start))
        role = principal.roles.get(project)
        return cls(
            project=project,
            subject=principal.subject,
            role=role.value if role is not None else "",
            first_us=now_us,
            last_us=now_us,
            used=frozenset({used.value}),
            longest_token_s=lifetime,
            no_expiry=principal.expires_at is None,
            last_token_id=principal.token_id or "",
        )

    def merge(self, other: AccessUsage) -> AccessUsage:
        """Both observations as one: the role and token of the latest."""
        latest = other if other.last_us >= self.last_us else self
        lifetimes = [x for x in (self.longest_token_s, other.longest_token_s) if x is not None]
        return replace(
            latest,
            first_us=min(self.first_us, other.first_us),
            last_us=max(self.last_us, other.last_us),
            used=self.used | other.used,
            longest_token_s=max(lifetimes) if lifetimes else None,
            no_expiry=self.no_expiry or other.no_expiry,
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["used"] = sorted(self.used)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AccessUsage:
        return cls(**{**data, "used": frozenset(data.get("used", ()))})


@dataclass(frozen=True, slots=True)
class Revocation:
    """A subject's or a token's access to a project, taken away; refused from `at_us` on."""

    project: str
    kind: RevocationKind
    value: str  # the subject, or the token id
    at_us: int
    by: str
    reason: str = ""
    review_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "kind": self.kind.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Revocation:
        return cls(**{**data, "kind": RevocationKind(data["kind"])})


@dataclass(frozen=True, slots=True)
class ReviewedSubject:
    """One line of an access review: a subject, its role, use, and what looks wrong."""

    subject: str
    role: str
    first_us: int
    last_us: int
    idle_days: float
    used: tuple[str, ...]
    flags: tuple[str, ...]
    suggested_role: str = ""  # for ROLE_BEYOND_USE: the smallest role that covers the use
    longest_token_days: float | None = None
    last_token_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["used"], data["flags"] = list(self.used), list(self.flags)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReviewedSubject:
        return cls(**{**data, "used": tuple(data["used"]), "flags": tuple(data["flags"])})


@dataclass(frozen=True, slots=True)
class Decision:
    subject: str
    kind: DecisionKind
    by: str
    at_us: int
    comment: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "kind": self.kind.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decision:
        return cls(**{**data, "kind": DecisionKind(data["kind"])})


@dataclass(frozen=True, slots=True)
class AccessReview:
    """A snapshot of a project's access, and a reviewer's decision per subject. Complete
    once every subject has one; kept for the audit (it is the evidence of ISO 5.18)."""

    id: str
    project: str
    started_us: int
    started_by: str
    subjects: tuple[ReviewedSubject, ...]
    decisions: tuple[Decision, ...] = ()
    completed_us: int | None = None
    version: int = 1

    def decision(self, subject: str) -> Decision | None:
        return next((d for d in self.decisions if d.subject == subject), None)

    def decide(self, decision: Decision) -> AccessReview:
        """The review with `decision` in place of any earlier one for its subject."""
        kept = tuple(d for d in self.decisions if d.subject != decision.subject)
        decisions = (*kept, decision)
        everyone = {s.subject for s in self.subjects}
        done = everyone <= {d.subject for d in decisions}
        completed = self.completed_us or (decision.at_us if done else None)
        return replace(self, decisions=decisions, completed_us=completed, version=self.version + 1)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "project": self.project,
            "started_us": self.started_us,
            "started_by": self.started_by,
            "subjects": [s.to_dict() for s in self.subjects],
            "decisions": [d.to_dict() for d in self.decisions],
            "completed_us": self.completed_us,
            "version": self.version,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AccessReview:
        return cls(
            id=data["id"],
            project=data["project"],
            started_us=data["started_us"],
            started_by=data["started_by"],
            subjects=tuple(ReviewedSubject.from_dict(s) for s in data["subjects"]),
            decisions=tuple(Decision.from_dict(d) for d in data["decisions"]),
            completed_us=data.get("completed_us"),
            version=data.get("version", 1),
        )


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One check of a project: its status, the evidence (ids and counts) and why."""

    check: str
    status: CheckStatus
    detail: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CheckResult:
        return cls(**{**data, "status": CheckStatus(data["status"])})


@dataclass(frozen=True, slots=True)
class ComplianceRun:
    """One compliance check of a project: scheduled (`slot` is the period it covers) or
    asked for (`slot` is unique). Claimed by one instance, finished once."""

    project: str
    slot: str
    started_us: int
    owner: str
    results: tuple[CheckResult, ...] = ()
    finished_us: int | None = None

    @property
    def status(self) -> CheckStatus:
        if any(r.status is CheckStatus.FAIL for r in self.results):
            return CheckStatus.FAIL
        return CheckStatus.PASS

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "slot": self.slot,
            "started_us": self.started_us,
            "owner": self.owner,
            "results": [r.to_dict() for r in self.results],
            "finished_us": self.finished_us,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ComplianceRun:
        return cls(
            project=data["project"],
            slot=data["slot"],
            started_us=data["started_us"],
            owner=data["owner"],
            results=tuple(CheckResult.from_dict(r) for r in data.get("results", ())),
            finished_us=data.get("finished_us"),
        )


@dataclass(frozen=True, slots=True)
class SecretsStatus:
    """How a project's stored secrets are kept: sealed under which key versions, or plain."""

    sealed: int
    plaintext: int
    key_versions: dict[str, int]  # key version -> secrets sealed under it
    current_version: str


@dataclass(frozen=True, slots=True)
class RetentionStatus:
    """What the storage tiers report: the policy, whether it is enforced, deletions audited."""

    policy: str
    enforced: bool
    deletions: int
    deletions_audited: int


def suggested_role(used: frozenset[str]) -> Role:
    """The smallest role that grants every permission in `used`."""
    if Permission.ADMINISTER.value in used:
        return Role.ADMIN
    if Permission.EDIT.value in used:
        return Role.EDITOR
    if used <= {Permission.WRITE_METRICS.value}:
        return Role.COLLECTOR if used else Role.VIEWER
    if Permission.WRITE_METRICS.value in used:
        return Role.ADMIN  # reads and writes of metrics: only admin grants both
    return Role.VIEWER
