"""The audit trail: an entry for every command a caller sends, and for refusals at the edge."""

from __future__ import annotations

from typing import Any

from domain.commands import Command
from domain.ports import Clock
from domain.system.ports import AuditStore
from domain.system.read_models import AuditEntry

__all__ = ["AuditTrail"]


class AuditTrail:
    """Implements the message bus's CommandAudit port over an AuditStore."""

    def __init__(self, store: AuditStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def command_handled(
        self, command: Command, *, actor: str, request_id: str, outcome: str
    ) -> None:
        if not actor:  # Vigil's own work (self-monitoring) is not a user's action
            return
        await self.record(
            actor=actor,
            action=type(command).__name__,
            project=getattr(command, "project", ""),
            outcome=outcome,
            request_id=request_id,
        )

    async def record(
        self,
        *,
        actor: str,
        action: str,
        project: str,
        outcome: str,
        request_id: str = "",
        detail: dict[str, Any] | None = None,
    ) -> None:
        """Write an entry for something that is not a command (a denial, a login)."""
        entry = AuditEntry(
            actor=actor,
            action=action,
            project=project,
            outcome=outcome,
            timestamp_us=self._clock.now_us(),
            request_id=request_id,
            detail=detail or {},
        )
        await self._store.record(entry)
