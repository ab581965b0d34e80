"""The compliance checks: each turns evidence Vigil keeps into pass, fail or not applicable.

Each check is a function of its evidence only, so that a report and a scheduled run say
the same thing for the same records. The evidence is gathered in `evidence.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.compliance.model import (
    AccessReview,
    AccessUsage,
    CheckResult,
    CheckStatus,
    DecisionKind,
    RetentionStatus,
    Revocation,
    RevocationKind,
    SecretsStatus,
)
from domain.compliance.read_models import AuditVerificationDto
from domain.compliance.reviews import DAY_US, CompliancePolicy

__all__ = [
    "AlertResponse",
    "Coverage",
    "access_review",
    "alert_response",
    "audit_chain",
    "clock_skew",
    "monitoring_coverage",
    "retention",
    "revocations",
    "secrets_encrypted",
    "token_expiry",
]

PASS, FAIL, NA = CheckStatus.PASS, CheckStatus.FAIL, CheckStatus.NOT_APPLICABLE
CHECKPOINT_GRACE_US = 26 * 3_600_000_000  # daily checkpoints, plus two hours of slack
RETENTION_NOT_YET = "not applicable: retention policies arrive with storage tiers"


def audit_chain(
    found: AuditVerificationDto, oldest_unsealed_us: int | None, now_us: int
) -> CheckResult:
    evidence: dict[str, Any] = {
        "entries": found.entries,
        "head_index": found.head_index,
        "checkpoints": found.checkpoints,
        "unsealed": found.unsealed,
    }
    if found.last_checkpoint is not None:
        evidence["last_checkpoint_index"] = found.last_checkpoint.chain_index
    if found.first_break is not None:
        brk = found.first_break
        evidence.update(break_index=brk.chain_index, break_seq=brk.seq, break_kind=brk.kind.value)
        return CheckResult("audit_chain", FAIL, brk.detail, evidence)
    if found.head_index == 0:
        return CheckResult("audit_chain", NA, "the project has no audit entries yet", evidence)
    if oldest_unsealed_us is not None and now_us - oldest_unsealed_us > CHECKPOINT_GRACE_US:
        return CheckResult(
            "audit_chain",
            FAIL,
            f"{found.unsealed} entries are older than a day and not covered by a signed"
            " checkpoint: is the checkpoint job running?",
            evidence,
        )
    return CheckResult(
        "audit_chain",
        PASS,
        f"{found.entries} entries and {found.checkpoints} signed checkpoints verified",
        evidence,
    )


def access_review(
    reviews: Sequence[AccessReview], now_us: int, policy: CompliancePolicy
) -> CheckResult:
    done = [r for r in reviews if r.completed_us is not None]
    limit_us = policy.review_every_days * DAY_US
    recent = [r for r in done if now_us - (r.completed_us or 0) <= limit_us]
    evidence = {
        "reviews": [r.id for r in reviews[:20]],
        "completed": len(done),
        "open": len(reviews) - len(done),
    }
    if recent:
        latest = max(recent, key=lambda r: r.completed_us or 0)
        age = (now_us - (latest.completed_us or 0)) / DAY_US
        evidence["latest_completed"] = latest.id
        return CheckResult(
            "access_review",
            PASS,
            f"review {latest.id} was completed {age:.1f} days ago"
            f" ({len(latest.subjects)} subjects decided)",
            evidence,
        )
    why = "no access review was ever completed"
    if done:
        latest = max(done, key=lambda r: r.completed_us or 0)
        why = (
            f"the last completed review ({latest.id}) is"
            f" {(now_us - (latest.completed_us or 0)) / DAY_US:.0f} days old"
        )
    return CheckResult(
        "access_review", FAIL, f"{why}; one is due every {policy.review_every_days} days", evidence
    )


def revocations(
    reviews: Sequence[AccessReview], revoked: Sequence[Revocation], usage: Sequence[AccessUsage]
) -> CheckResult:
    """Every revoke decision has its revocation, and no revoked subject was served since."""
    subjects = {r.value: r for r in revoked if r.kind is RevocationKind.SUBJECT}
    decided = {
        d.subject for review in reviews for d in review.decisions if d.kind is DecisionKind.REVOKE
    }
    missing = sorted(s for s in decided if s not in subjects)
    last_use = {u.subject: u.last_us for u in usage}
    used_after = sorted(s for s, r in subjects.items() if last_use.get(s, 0) > r.at_us)
    evidence = {
        "revocations": len(revoked),
        "revoke_decisions": len(decided),
        "not_applied": missing,
        "used_after_revocation": used_after,
    }
    if missing or used_after:
        parts = []
        if missing:
            parts.append(f"revoke decisions without a revocation: {', '.join(missing)}")
        if used_after:
            parts.append(f"served after their revocation: {', '.join(used_after)}")
        return CheckResult("revocations", FAIL, "; ".join(parts), evidence)
    return CheckResult(
        "revocations",
        PASS,
        f"{len(revoked)} revocations in force; none was used after it was made",
        evidence,
    )


def token_expiry(
    usage: Sequence[AccessUsage], start_us: int, end_us: int, policy: CompliancePolicy
) -> CheckResult:
    seen = [u for u in usage if u.last_us >= start_us and u.first_us < end_us]
    limit = policy.max_token_days * 86_400
    forever = sorted(u.subject for u in seen if u.no_expiry)
    too_long = sorted(
        u.subject for u in seen if u.longest_token_s is not None and u.longest_token_s > limit
    )
    evidence = {"subjects": len(seen), "no_expiry": forever, "longer_than_allowed": too_long}
    if not seen:
        return CheckResult("token_expiry", NA, "no token was used in the period", evidence)
    if forever or too_long:
        who = ", ".join(sorted({*forever, *too_long}))
        return CheckResult(
            "token_expiry",
            FAIL,
            f"tokens without expiry or valid over {policy.max_token_days} days were used by {who}",
            evidence,
        )
    return CheckResult(
        "token_expiry",
        PASS,
        f"every token of the {len(seen)} subjects seen expires within {policy.max_token_days} days",
        evidence,
    )


def secrets_encrypted(status: SecretsStatus) -> CheckResult:
    evidence = {
        "sealed": status.sealed,
        "plaintext": status.plaintext,
        "key_versions": status.key_versions,
        "current_key_version": status.current_version,
    }
    if status.sealed + status.plaintext == 0:
        return CheckResult(
            "secrets_encrypted", NA, "the project stores no notification secret", evidence
        )
    if status.plaintext:
        return CheckResult(
            "secrets_encrypted",
            FAIL,
            f"{status.plaintext} secrets are stored in plain text; run `vigil rotate-key`",
            evidence,
        )
    old = sum(n for v, n in status.key_versions.items() if v != status.current_version)
    tail = f"; {old} under an older key (`vigil rotate-key` re-encrypts them)" if old else ""
    return CheckResult(
        "secrets_encrypted",
        PASS,
        f"{status.sealed} secrets encrypted with AES-256-GCM{tail}",
        evidence,
    )


def retention(status: RetentionStatus | None) -> CheckResult:
    if status is None:
        return CheckResult("retention", NA, RETENTION_NOT_YET, {})
    evidence = {
        "policy": status.policy,
        "deletions": status.deletions,
        "deletions_audited": status.deletions_audited,
    }
    if not status.enforced:
        return CheckResult(
            "retention", FAIL, f"retention {status.policy} is not enforced", evidence
        )
    if status.deletions_audited < status.deletions:
        return CheckResult(
            "retention",
            FAIL,
            f"{status.deletions - status.deletions_audited} deletions are not in the audit log",
            evidence,
        )
    return CheckResult("retention", PASS, f"retention {status.policy} enforced", evidence)


@dataclass(frozen=True, slots=True)
class AlertResponse:
    """Alert instances that fired in the period and how soon someone answered each."""

    fired: int
    answered_in_time: int
    late: list[str] = field(default_factory=list)  # "alert id/instance" of each late one
    waiting: int = 0  # still firing, within the target


def alert_response(found: AlertResponse, policy: CompliancePolicy) -> CheckResult:
    evidence = {
        "fired": found.fired,
        "answered_in_time": found.answered_in_time,
        "late": found.late[:20],
        "waiting": found.waiting,
        "target_seconds": policy.ack_target_seconds,
    }
    if found.fired == 0:
        return CheckResult("alert_response", PASS, "no alert fired in the period", evidence)
    if found.late:
        return CheckResult(
            "alert_response",
            FAIL,
            f"{len(found.late)} of {found.fired} alerts that fired were not acknowledged or"
            f" resolved within {policy.ack_target_seconds} s",
            evidence,
        )
    return CheckResult(
        "alert_response",
        PASS,
        f"{found.answered_in_time} of {found.fired} fired alerts answered within"
        f" {policy.ack_target_seconds} s ({found.waiting} still within it)",
        evidence,
    )


@dataclass(frozen=True, slots=True)
class Coverage:
    alerts: list[str]  # ids of enabled alert rules
    channels: list[str]  # ids of enabled channels the policy routes to
    problem: str = ""  # why the channels could not be read, if they could not


def monitoring_coverage(found: Coverage) -> CheckResult:
    evidence = {"alerts": found.alerts[:20], "routed_channels": found.channels[:20]}
    if found.problem:
        return CheckResult("monitoring_coverage", FAIL, found.problem, evidence)
    missing = []
    if not found.alerts:
        missing.append("no enabled alert rule")
    if not found.channels:
        missing.append("no notification route to an enabled channel")
    if missing:
        return CheckResult("monitoring_coverage", FAIL, "; ".join(missing), evidence)
    return CheckResult(
        "monitoring_coverage",
        PASS,
        f"{len(found.alerts)} enabled alert rules, routed to {len(found.channels)} channels",
        evidence,
    )


def clock_skew(offsets: dict[str, float], policy: CompliancePolicy) -> CheckResult:
    """`offsets`: each collector source's worst offset (seconds) over the period."""
    tolerance = policy.clock_tolerance_seconds
    evidence = {"sources": {s: round(v, 3) for s, v in sorted(offsets.items())}}
    if not offsets:
        return CheckResult("clock_skew", NA, "no collector sent points in the period", evidence)
    off = sorted(s for s, v in offsets.items() if abs(v) > tolerance)
    if off:
        return CheckResult(
            "clock_skew",
            FAIL,
            f"clocks off by more than {tolerance:g} s: {', '.join(off)}",
            evidence,
        )
    worst = max(abs(v) for v in offsets.values())
    return CheckResult(
        "clock_skew",
        PASS,
        f"{len(offsets)} collector sources within {tolerance:g} s (worst {worst:.3f} s)",
        evidence,
    )
