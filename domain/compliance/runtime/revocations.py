"""Revocations in force, in memory on every instance: what authentication subtracts.

Loaded from the store at start and again every few seconds (`refresh`), and changed at
once by AccessRevokedEvent from any instance (`apply_event`), so a revocation made on one
instance is refused on all within the bus's latency, and within one refresh if the bus
lost the event. Listeners (the websocket endpoint) hear each new revocation to end the
live connections it affects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from domain.access import Principal
from domain.compliance.events import AccessRevokedEvent
from domain.compliance.model import Revocation, RevocationKind
from domain.compliance.ports import ComplianceStore

__all__ = ["RevocationList"]

Listener = Callable[[str, RevocationKind, str], None]


class RevocationList:
    def __init__(self) -> None:
        # (kind, value) -> the projects it is revoked in
        self._revoked: dict[tuple[RevocationKind, str], set[str]] = {}
        self._listeners: list[Listener] = []

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call `listener(project, kind, value)` for each revocation from now on."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def replace_all(self, revocations: Iterable[Revocation]) -> None:
        fresh: dict[tuple[RevocationKind, str], set[str]] = {}
        for r in revocations:
            fresh.setdefault((r.kind, r.value), set()).add(r.project)
        added = [
            (project, kind, value)
            for (kind, value), projects in fresh.items()
            for project in projects - self._revoked.get((kind, value), set())
        ]
        self._revoked = fresh
        for added_one in added:
            self._tell(*added_one)

    async def refresh(self, store: ComplianceStore) -> None:
        self.replace_all(await store.revocations(None))

    def apply_event(self, event: AccessRevokedEvent) -> None:
        kind = RevocationKind(event.kind)
        projects = self._revoked.setdefault((kind, event.value), set())
        if not event.revoked:
            projects.discard(event.in_project)
            return
        if event.in_project not in projects:
            projects.add(event.in_project)
            self._tell(event.in_project, kind, event.value)

    def revoked_in(self, principal: Principal) -> set[str]:
        """The principal's projects where its subject or its token is revoked."""
        found = set(self._revoked.get((RevocationKind.SUBJECT, principal.subject), ()))
        if principal.token_id:
            found |= self._revoked.get((RevocationKind.TOKEN, principal.token_id), set())
        return found & set(principal.roles)

    def affects(self, principal: Principal, project: str, kind: RevocationKind, value: str) -> bool:
        if project not in principal.roles:
            return False
        if kind is RevocationKind.SUBJECT:
            return principal.subject == value
        return principal.token_id == value

    def _tell(self, project: str, kind: RevocationKind, value: str) -> None:
        for listener in list(self._listeners):
            listener(project, kind, value)
