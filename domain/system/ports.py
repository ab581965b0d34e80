"""What the system feature needs: the audit store and health checks of each component."""

from __future__ import annotations

from typing import Protocol

from domain.system.queries import GetAuditLogQuery
from domain.system.read_models import AuditEntry

__all__ = ["AuditStore", "HealthCheck"]


class AuditStore(Protocol):
    async def record(self, entry: AuditEntry) -> None: ...

    async def list_entries(self, query: GetAuditLogQuery) -> list[AuditEntry]: ...


class HealthCheck(Protocol):
    name: str

    async def check(self) -> str:
        """Raise if the component is down; return its version text."""
        ...
