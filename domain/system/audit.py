"""The audit trail: an entry for every command a caller sends, and for refusals at the edge."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields, is_dataclass
from typing import Any

from domain.changes import AuditNote, Change, command_changes
from domain.commands import Command
from domain.messagebus import Caller
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
        self, command: Command, *, caller: Caller, outcome: str, note: AuditNote
    ) -> None:
        note.ok_entry = None  # no write after the command's end may carry it
        if not caller.actor:  # Vigil's own work (self-monitoring) is not a user's action
            return
        if outcome == "ok" and note.ok_written:  # committed with the command's write
            return
        await self._store.record(self._entry(command, caller, outcome, note))

    def prepare(self, command: Command, *, caller: Caller, note: AuditNote) -> None:
        """Offers the command's "ok" entry to a store that commits it with the write."""
        if caller.actor and getattr(command, "audit_with_write", False):
            note.ok_entry = lambda: self._entry(command, caller, "ok", note)

    def _entry(self, command: Command, caller: Caller, outcome: str, note: AuditNote) -> AuditEntry:
        project = str(getattr(command, "project", ""))
        changes = note.changes if note.noted else command_changes(command)
        return AuditEntry(
            actor=caller.actor,
            action=type(command).__name__,
            project=project,
            outcome=outcome,
            timestamp_us=self._clock.now_us(),
            request_id=caller.request_id,
            role=caller.role_in(project),
            target=dict(note.target or _ids_of(command)),
            changes=[c.to_dict() for c in changes],
            client=caller.client,
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
        role: str = "",
        target: Mapping[str, str] | None = None,
        changes: Sequence[Change] = (),
        client: str = "",
    ) -> AuditEntry:
        """Write an entry (chained by the store) and return it as stored."""
        entry = AuditEntry(
            actor=actor,
            action=action,
            project=project,
            outcome=outcome,
            timestamp_us=self._clock.now_us(),
            request_id=request_id,
            detail=detail or {},
            role=role,
            target=dict(target or {}),
            changes=[c.to_dict() for c in changes],
            client=client,
        )
        return await self._store.record(entry)


def _ids_of(command: Command) -> dict[str, str]:
    """What a command names by id (`alert_id`, `channel_id`, ...), when its handler said nothing."""
    if not is_dataclass(command):
        return {}
    found = {}
    for f in fields(command):
        value = getattr(command, f.name)
        if (f.name == "id" or f.name.endswith("_id")) and isinstance(value, str) and value:
            found[f.name] = value
    return found
