"""Metric reads in the audit trail: counted per actor, project and hour, written once an hour.

One entry per query would put a dashboard's every refresh in the log (a dashboard of ten
widgets refreshing every 10 s is 3,600 rows an hour per viewer). The ledger counts reads
in memory instead, by (actor, project, hour), with each query kind's count, and writes
one `readMetrics` entry per key when its hour is over (and whatever is left at shutdown):
who read which project's metrics, how often, in which hour. Each instance writes its own.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

from domain.messagebus import Caller
from domain.ports import Clock
from domain.queries import Query
from domain.system.audit import AuditTrail

__all__ = ["HOUR_US", "ReadLedger"]

HOUR_US = 3_600_000_000


@dataclass(slots=True)
class _Reads:
    role: str
    clients: set[str] = field(default_factory=set)
    queries: Counter[str] = field(default_factory=Counter)


class ReadLedger:
    """The message bus's QueryAudit port: counts the audited kinds of query."""

    def __init__(
        self, trail: AuditTrail, clock: Clock, *, audited: Collection[type[Query]], instance: str
    ) -> None:
        self._trail = trail
        self._clock = clock
        self._audited = frozenset(audited)
        self._instance = instance
        self._reads: dict[tuple[str, str, int], _Reads] = {}

    def query_asked(self, query: Query, caller: Caller) -> None:
        if type(query) not in self._audited:
            return
        self.count(caller, str(getattr(query, "project", "")), type(query).__name__)

    def count(self, caller: Caller, project: str, what: str) -> None:
        hour = self._clock.now_us() // HOUR_US * HOUR_US
        reads = self._reads.get((caller.actor, project, hour))
        if reads is None:
            reads = self._reads[(caller.actor, project, hour)] = _Reads(caller.role_in(project))
        reads.queries[what] += 1
        if caller.client and len(reads.clients) < 10:
            reads.clients.add(caller.client)

    @property
    def pending(self) -> int:
        return len(self._reads)

    async def flush(self, *, everything: bool = False) -> int:
        """Write the keys whose hour is over (all with `everything`); how many were written."""
        current = self._clock.now_us() // HOUR_US * HOUR_US
        due = [k for k in self._reads if everything or k[2] < current]
        for key in sorted(due, key=lambda k: (k[2], k[1], k[0])):
            actor, project, hour = key
            reads = self._reads.pop(key)
            await self._trail.record(
                actor=actor,
                action="readMetrics",
                project=project,
                outcome="ok",
                role=reads.role,
                client=",".join(sorted(reads.clients)),
                detail={
                    "hour_us": hour,
                    "until_us": min(hour + HOUR_US, self._clock.now_us()),
                    "reads": sum(reads.queries.values()),
                    "queries": dict(sorted(reads.queries.items())),
                    "instance": self._instance,
                },
            )
        return len(due)
