"""What the system feature needs: the audit store and health checks of each component."""

from __future__ import annotations

from typing import Protocol

from domain.system.queries import GetAuditLogQuery
from domain.system.read_models import AuditEntry

__all__ = ["AuditStore", "HealthCheck"]


class AuditStore(Protocol):
    async def record(self, entry: AuditEntry) -> AuditEntry:
        """Append `entry` to its project's chain (domain.system.model.link, atomically with
        any other writer of the project) and return it as stored, `seq` and hashes set."""
        ...

    async def list_entries(self, query: GetAuditLogQuery) -> list[AuditEntry]: ...

    async def chain(self, project: str, *, after_index: int, first: int) -> list[AuditEntry]:
        """The project's entries in chain order from index `after_index + 1`, at most
        `first`, as stored (a tampered store answers what it holds: the verifier judges)."""
        ...

    async def first_index_at(self, project: str, at_us: int) -> int | None:
        """The lowest chain index of an entry recorded at or after `at_us`."""
        ...

    async def head(self, project: str) -> AuditEntry | None:
        """The entry with the highest chain index of the project."""
        ...

    async def projects(self) -> list[str]:
        """Every project with at least one entry, sorted."""
        ...


class HealthCheck(Protocol):
    name: str

    async def check(self) -> str:
        """Raise if the component is down (ComponentDegraded if it works, but not as it
        should); return its version text."""
        ...
