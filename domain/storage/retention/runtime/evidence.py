"""The compliance feature's RetentionEvidence (controls CC6.5 and A.8.10): a project's
policy, whether runs enforce it, and what the audited runs deleted in the period.

Enforced means runs are on and one audited this project within the last three periods
(an instance up for less than that gets the benefit of the doubt), none of them failing.
Every deletion Vigil makes is a run's, and every run writes its counts to the audit log,
so deletions and audited deletions are the same sum; MongoDB's collection expiry (the
ceiling) deletes without an entry, which is why a policy's raw retention sits below it.
"""

from __future__ import annotations

from domain.compliance.model import RetentionStatus
from domain.ports import Clock
from domain.storage.retention.model import DAY_US, RetentionPolicy
from domain.storage.retention.runtime.book import PolicyBook
from domain.storage.retention.runtime.runner import ACTION
from domain.storage.tiers import TIERS
from domain.system.ports import AuditStore
from domain.system.queries import GetAuditLogQuery

__all__ = ["RetentionReport"]

PAGE = 500


class RetentionReport:
    def __init__(
        self, book: PolicyBook, audit: AuditStore, clock: Clock, *, every_us: int, runs: bool
    ) -> None:
        self._book = book
        self._audit = audit
        self._clock = clock
        self._every_us = every_us
        self._runs = runs
        self._started_us = clock.now_us()

    async def retention(self, project: str, start_us: int, end_us: int) -> RetentionStatus:
        policy = (await self._book.stored(project)).capped(self._book.defaults.raw_ceiling_us)
        deleted, latest, failed = 0, 0, False
        after: int | None = None
        while True:
            page = await self._audit.list_entries(
                GetAuditLogQuery(
                    project,
                    action=ACTION,
                    start_us=start_us,
                    end_us=end_us,
                    first=PAGE,
                    after=after,
                )
            )
            for entry in page:
                counts = entry.detail.get("deleted") or {}
                deleted += sum(int(n) for n in counts.values() if n)
                latest = max(latest, entry.timestamp_us)
                failed = failed or entry.outcome == "error"
            if len(page) < PAGE:
                break
            after = page[-1].seq
        recent = end_us - 3 * self._every_us
        young = self._clock.now_us() - self._started_us < 3 * self._every_us
        enforced = self._runs and not failed and (latest >= recent or young)
        return RetentionStatus(_described(policy), enforced, deleted, deleted)


def _described(policy: RetentionPolicy) -> str:
    text = ", ".join(f"{t.name} {policy.keep(t) / DAY_US:g}d" for t in TIERS)
    if policy.overrides:
        text += f", {len(policy.overrides)} override(s)"
    if policy.hold is not None:
        text += " (legal hold)"
    return text
