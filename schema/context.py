"""The per-request context every resolver and permission sees."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry

from domain.access import Permission, Principal
from domain.compliance.runtime import AccessLedger
from domain.errors import Unauthenticated, VigilError
from domain.messagebus import Caller, MessageBus
from domain.ports import Clock, EventSubscriber
from domain.system.audit import AuditTrail
from domain.system.reads import ReadLedger
from domain.system.security import SecurityLog

__all__ = ["Info", "VigilContext"]


@dataclass(slots=True)
class VigilContext:
    bus: MessageBus
    subscriber: EventSubscriber
    audit: AuditTrail
    clock: Clock
    principal: Principal | None = None
    auth_error: VigilError | None = None  # why a presented token was refused
    request_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    client: str = ""  # the client's address, as the server saw it
    security: SecurityLog | None = None  # where refusals go (domain/system/security.py)
    access: AccessLedger | None = None  # who used which project with which permission
    reads: ReadLedger | None = None  # metric reads, counted per actor, project and hour

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise self.auth_error or Unauthenticated("a bearer token is required")
        return self.principal

    def readable_projects(self) -> list[str]:
        return self.require_principal().projects_with(Permission.READ)

    def caller(self) -> Caller:
        principal = self.require_principal()
        roles = {p: r.value for p, r in principal.roles.items()}
        return Caller(
            principal.subject, roles, self.client, self.request_id, principal.token_id or ""
        )


Info = strawberry.Info[VigilContext, None]
