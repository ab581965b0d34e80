"""Who used which project with which role: counted in memory, merged into the store often.

Every permission check that lets a caller in says so here (`seen`); a write per request
would double the store's work, so the ledger keeps one line per (project, subject) and
`flush` merges them into the store (the compliance runtime does every few seconds, and
an access review does first). Use is recorded only for requests that were let in.
"""

from __future__ import annotations

from domain.access import Permission, Principal
from domain.compliance.model import AccessUsage
from domain.compliance.ports import ComplianceStore
from domain.ports import Clock

__all__ = ["AccessLedger"]


class AccessLedger:
    def __init__(self, store: ComplianceStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock
        self._pending: dict[tuple[str, str], AccessUsage] = {}

    def seen(self, principal: Principal, project: str, used: Permission) -> None:
        usage = AccessUsage.seen(principal, project, used, self._clock.now_us())
        key = (project, principal.subject)
        known = self._pending.get(key)
        self._pending[key] = usage if known is None else known.merge(usage)

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> int:
        """Merge what was seen into the store; kept for the next flush if the store fails."""
        if not self._pending:
            return 0
        batch, self._pending = self._pending, {}
        try:
            await self._store.record_usage(list(batch.values()))
        except BaseException:
            for key, usage in batch.items():  # seen again meanwhile: merge, lose nothing
                known = self._pending.get(key)
                self._pending[key] = usage if known is None else usage.merge(known)
            raise
        return len(batch)
