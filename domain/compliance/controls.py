"""The controls of each framework, and the Vigil check that evidences each (docs/compliance.md).

A check is one question Vigil can answer from its own records (is the audit chain intact,
were access reviews done, ...); a framework's control is evidenced by one check. The same
check may evidence controls of both frameworks.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.compliance.model import Framework

__all__ = ["CHECKS", "CONTROLS", "Control"]

# check id -> what it establishes
CHECKS: dict[str, str] = {
    "audit_chain": "The audit trail is complete and unaltered (hash chain and signed checkpoints)",
    "access_review": "The project's access was reviewed within the last 90 days",
    "revocations": "Access revoked by a review is refused, and was not used after revocation",
    "token_expiry": "Every token used expires within the allowed lifetime",
    "secrets_encrypted": "Notification secrets are encrypted at rest under a current key",
    "retention": "Data is kept and deleted as configured, and deletions are audited",
    "alert_response": "Alerts that fired were acknowledged or resolved within the target time",
    "monitoring_coverage": "The project has enabled alert rules and notification routes",
    "clock_skew": "Collectors' clocks agree with Vigil's within the tolerance",
}


@dataclass(frozen=True, slots=True)
class Control:
    id: str
    title: str
    check: str


CONTROLS: dict[Framework, tuple[Control, ...]] = {
    Framework.SOC2: (
        Control("CC6.1", "Logical access security: credentials expire", "token_expiry"),
        Control("CC6.1", "Logical access security: encryption of secrets", "secrets_encrypted"),
        Control("CC6.2", "Access removed when no longer authorized", "revocations"),
        Control("CC6.3", "Access reviewed periodically", "access_review"),
        Control("CC6.5", "Data disposed of as policy requires", "retention"),
        Control("CC7.2", "System components monitored: audit trail integrity", "audit_chain"),
        Control("CC7.2", "System components monitored: coverage", "monitoring_coverage"),
        Control("CC7.2", "System components monitored: time synchronised", "clock_skew"),
        Control("CC7.4", "Security events responded to", "alert_response"),
    ),
    Framework.ISO27001: (
        Control("A.5.18", "Access rights reviewed", "access_review"),
        Control("A.5.18", "Access rights removed", "revocations"),
        Control("A.8.5", "Secure authentication: tokens expire", "token_expiry"),
        Control("A.8.10", "Information deletion", "retention"),
        Control("A.8.15", "Logging: logs protected against tampering", "audit_chain"),
        Control("A.8.16", "Monitoring activities: coverage", "monitoring_coverage"),
        Control("A.8.16", "Monitoring activities: response", "alert_response"),
        Control("A.8.17", "Clock synchronisation", "clock_skew"),
        Control("A.8.24", "Use of cryptography", "secrets_encrypted"),
    ),
}
