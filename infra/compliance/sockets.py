"""The live websockets of this instance, so that a revocation ends the ones it affects."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Protocol

from domain.access import Principal
from domain.compliance.model import RevocationKind
from domain.compliance.runtime import RevocationList

__all__ = ["LiveSockets"]

logger = logging.getLogger("vigil.compliance")


class _Socket(Protocol):
    principal: Principal | None

    def revoke(self, reason: str) -> None: ...


class LiveSockets:
    def __init__(self, revocations: RevocationList) -> None:
        self._revocations = revocations
        self._sockets: set[_Socket] = set()
        self.revoked = 0  # connections ended by a revocation since start
        self._stop = revocations.listen(self._revoked)

    def add(self, socket: _Socket) -> None:
        self._sockets.add(socket)

    def discard(self, socket: _Socket) -> None:
        self._sockets.discard(socket)

    def __len__(self) -> int:
        return len(self._sockets)

    def __iter__(self) -> Iterator[_Socket]:
        return iter(tuple(self._sockets))

    def close(self) -> None:
        self._stop()

    def _revoked(self, project: str, kind: RevocationKind, value: str) -> None:
        for socket in list(self._sockets):
            principal = socket.principal
            if principal is not None and self._revocations.affects(principal, project, kind, value):
                socket.revoke(f"access to project {project!r} was revoked")
                self.revoked += 1
                logger.info(
                    "closed a websocket of %s: access to %s revoked", principal.subject, project
                )
