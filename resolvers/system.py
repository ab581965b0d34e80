"""System operations: health of Vigil itself and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from domain.system.queries import GetAuditLogQuery, GetSystemHealthQuery
from schema.context import Info
from schema.types import AuditEntry, SystemHealth, to_us

__all__ = ["audit_log", "system_health"]


async def system_health(info: Info) -> SystemHealth:
    """GetSystemHealthQuery: overall status and each component's latency and version."""
    return SystemHealth.of(await info.context.bus.ask(GetSystemHealthQuery()))


async def audit_log(
    info: Info,
    project: str,
    actor: str | None = None,
    action: str | None = None,
    from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
    to: datetime | None = None,
    first: int = 100,
    after: int | None = None,
) -> list[AuditEntry]:
    """GetAuditLogQuery, newest first; `after` is the `seq` of the last entry seen."""
    entries = await info.context.bus.ask(
        GetAuditLogQuery(
            project=project,
            actor=actor,
            action=action,
            start_us=to_us(from_),
            end_us=to_us(to),
            first=first,
            after=after,
        )
    )
    return [AuditEntry.of(e) for e in entries]
