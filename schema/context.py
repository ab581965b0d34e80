"""The per-request context every resolver and permission sees."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry

from domain.access import Permission, Principal
from domain.errors import Unauthenticated, VigilError
from domain.messagebus import MessageBus
from domain.ports import Clock, EventSubscriber
from domain.system.audit import AuditTrail

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

    def require_principal(self) -> Principal:
        if self.principal is None:
            raise self.auth_error or Unauthenticated("a bearer token is required")
        return self.principal

    def readable_projects(self) -> list[str]:
        return self.require_principal().projects_with(Permission.READ)


Info = strawberry.Info[VigilContext, None]
