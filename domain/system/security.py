"""The security log: refused tokens and permissions, in Vigil's own project, within limits.

A refusal says nothing about a tenant unless the caller holds a role in the tenant's
project: anonymous callers, refused or revoked tokens, and callers asking for a project
they have no role in go to the security log (project `system`), never to the project they
named (an anonymous caller could otherwise fill any tenant's log: 2,000 rows in 3 s were
measured). Each source (client address, else actor) may write `per_source` entries a
minute, and all sources together `overall`; past that, refusals are counted and one
`suppressed` entry per source says how many when its minute ends. Every refusal is also
counted for the security metrics (`counters`), whether written or not.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from domain.ports import Clock
from domain.system.audit import AuditTrail
from domain.system.model import SECURITY_LOG

__all__ = ["SecurityCounters", "SecurityLog"]

WINDOW_US = 60_000_000


@dataclass(slots=True)
class SecurityCounters:
    """Totals since start, by (metric, project, reason): what self-monitoring records as
    `vigil.security.*` in the system project."""

    totals: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def add(self, metric: str, project: str = "", reason: str = "") -> None:
        self.totals[(metric, project, reason)] += 1


@dataclass(slots=True)
class _Window:
    start_us: int
    written: Counter[str] = field(default_factory=Counter)
    suppressed: Counter[str] = field(default_factory=Counter)


class SecurityLog:
    """Writes refusals to the trail, in the tenant's log or the security log, rate-limited."""

    def __init__(
        self,
        trail: AuditTrail,
        clock: Clock,
        *,
        counters: SecurityCounters | None = None,
        per_source: int = 20,
        overall: int = 200,
    ) -> None:
        self._trail = trail
        self._clock = clock
        self.counters = counters or SecurityCounters()
        self._per_source = per_source
        self._overall = overall
        self._window = _Window(clock.now_us())

    async def refused(
        self,
        *,
        metric: str,
        actor: str,
        action: str,
        outcome: str,
        asked: str = "",
        tenant: bool = False,
        reason: str = "",
        role: str = "",
        client: str = "",
        request_id: str = "",
        counted_in: str = "",
    ) -> None:
        """Record one refusal. `metric`: refused_tokens, refused_permissions, revoked_token_use
        or rate_limited; `asked`: the project the caller named; `tenant`: the caller holds a
        role there, so the entry belongs to that project's log (never rate-limited: only a
        member can write it). The metric is tagged with the project when the caller is a
        member of it, or `counted_in` names it (never a name an outsider made up)."""
        self.counters.add(metric, asked if tenant else counted_in, reason)
        if tenant and asked:
            await self._trail.record(
                actor=actor,
                action=action,
                project=asked,
                outcome=outcome,
                request_id=request_id,
                role=role,
                client=client,
                detail={"reason": reason} if reason else None,
            )
            return
        await self.flush()
        source = client or actor or "unknown"
        window = self._window
        if window.written[source] >= self._per_source or window.written.total() >= self._overall:
            window.suppressed[source] += 1
            self.counters.add("rate_limited", "", metric)
            return
        window.written[source] += 1
        detail = {"asked_project": asked} if asked else {}
        if reason:
            detail["reason"] = reason
        await self._trail.record(
            actor=actor,
            action=action,
            project=SECURITY_LOG,
            outcome=outcome,
            request_id=request_id,
            client=client,
            detail=detail,
        )

    async def flush(self, *, force: bool = False) -> int:
        """End the minute if it is over (or `force`): one `suppressed` entry per source that
        went past its limit. The number of entries written."""
        now = self._clock.now_us()
        window = self._window
        if not force and now - window.start_us < WINDOW_US:
            return 0
        self._window = _Window(now)
        for source, count in sorted(window.suppressed.items()):
            await self._trail.record(
                actor=source,
                action="suppressed",
                project=SECURITY_LOG,
                outcome="RATE_LIMITED",
                client=source,
                detail={"refusals": count, "from_us": window.start_us, "to_us": now},
            )
        return len(window.suppressed)
