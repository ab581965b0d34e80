"""Access reviews: each subject seen in a project, with what a reviewer should look at."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.access import Role
from domain.compliance.model import (
    AccessFlag,
    AccessUsage,
    ReviewedSubject,
    Revocation,
    RevocationKind,
    suggested_role,
)

__all__ = ["CompliancePolicy", "review_lines"]

DAY_US = 86_400_000_000
_PRIVILEGED = frozenset({Role.ADMIN.value, Role.EDITOR.value})
_RANK = {Role.VIEWER.value: 1, Role.COLLECTOR.value: 1, Role.EDITOR.value: 2, Role.ADMIN.value: 3}


@dataclass(frozen=True, slots=True)
class CompliancePolicy:
    """The limits the checks and reviews measure against (settings: docs/configuration.md)."""

    review_every_days: int = 90  # an access review at least this often
    stale_after_days: int = 90  # an admin or editor idle this long is flagged
    max_token_days: int = 90  # a token valid longer than this is flagged
    ack_target_seconds: int = 3_600  # a fired alert acknowledged or resolved within this
    clock_tolerance_seconds: float = 30.0  # a collector's clock may be off by this much


def review_lines(
    usages: Iterable[AccessUsage],
    revocations: Iterable[Revocation],
    *,
    now_us: int,
    policy: CompliancePolicy,
) -> list[ReviewedSubject]:
    """One line per subject, sorted by subject."""
    revoked = {r.value for r in revocations if r.kind is RevocationKind.SUBJECT}
    lines = []
    for usage in sorted(usages, key=lambda u: u.subject):
        idle_us = max(0, now_us - usage.last_us)
        flags = []
        if usage.role in _PRIVILEGED and idle_us >= policy.stale_after_days * DAY_US:
            flags.append(AccessFlag.STALE_PRIVILEGE)
        if usage.no_expiry:
            flags.append(AccessFlag.NO_EXPIRY)
        longest = usage.longest_token_s
        if longest is not None and longest > policy.max_token_days * 86_400:
            flags.append(AccessFlag.LONG_LIVED_TOKEN)
        suggested = suggested_role(usage.used).value
        beyond = _RANK.get(usage.role, 0) > _RANK.get(suggested, 0)
        if beyond:
            flags.append(AccessFlag.ROLE_BEYOND_USE)
        if usage.subject in revoked:
            flags.append(AccessFlag.REVOKED)
        lines.append(
            ReviewedSubject(
                subject=usage.subject,
                role=usage.role,
                first_us=usage.first_us,
                last_us=usage.last_us,
                idle_days=round(idle_us / DAY_US, 2),
                used=tuple(sorted(usage.used)),
                flags=tuple(f.value for f in flags),
                suggested_role=suggested if beyond else "",
                longest_token_days=None if longest is None else round(longest / 86_400, 2),
                last_token_id=usage.last_token_id,
            )
        )
    return lines
