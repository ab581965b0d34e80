"""System query handlers: health of every component, and the audit log."""

from __future__ import annotations

import time

from domain.errors import BadUserInput
from domain.messagebus import Services
from domain.system.queries import GetAuditLogQuery, GetSystemHealthQuery
from domain.system.read_models import AuditEntry, ComponentHealthDto, HealthCheckDto

__all__ = ["audit_log", "system_health"]

MAX_PAGE = 1_000


async def system_health(query: GetSystemHealthQuery, services: Services) -> HealthCheckDto:
    components = []
    for check in services.health_checks:
        started = time.perf_counter()
        try:
            version, status, detail = await check.check(), "ok", ""
        except Exception as exc:  # a component that is down is reported, not raised
            version, status, detail = "", "down", type(exc).__name__
        latency = (time.perf_counter() - started) * 1000
        components.append(ComponentHealthDto(check.name, status, latency, version, detail))
    down = sum(c.status != "ok" for c in components)
    overall = "ok" if not down else ("down" if down == len(components) else "degraded")
    uptime = (services.clock.now_us() - services.started_us) / 1e6
    return HealthCheckDto(overall, services.version, uptime, components)


async def audit_log(query: GetAuditLogQuery, services: Services) -> list[AuditEntry]:
    if not 1 <= query.first <= MAX_PAGE:
        raise BadUserInput(f"first must be between 1 and {MAX_PAGE}")
    return await services.audit.list_entries(query)
