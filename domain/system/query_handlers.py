"""System query handlers: health of every component, and the audit log."""

from __future__ import annotations

import time
from collections.abc import Sequence

from domain.errors import VigilError
from domain.paging import check_first
from domain.ports import Clock
from domain.system.model import ComponentDegraded
from domain.system.ports import AuditStore, HealthCheck
from domain.system.queries import GetAuditLogQuery, GetSystemHealthQuery
from domain.system.read_models import AuditEntry, ComponentHealthDto, HealthCheckDto

__all__ = ["audit_log", "system_health"]


async def system_health(
    query: GetSystemHealthQuery,
    *,
    health_checks: Sequence[HealthCheck],
    clock: Clock,
    version: str,
    started_us: int,
) -> HealthCheckDto:
    components = []
    for check in health_checks:
        started = time.perf_counter()
        try:
            found, status, detail = await check.check(), "ok", ""
        except ComponentDegraded as exc:
            found, status, detail = "", "degraded", exc.reason
        except VigilError as exc:  # its message is safe to show (domain/errors.py)
            found, status, detail = "", "down", exc.message
        except Exception as exc:  # a component that is down is reported, not raised
            found, status, detail = (
                "",
                "down",
                str(getattr(exc, "reason", "")) or type(exc).__name__,
            )
        latency = (time.perf_counter() - started) * 1000
        components.append(ComponentHealthDto(check.name, status, latency, found, detail))
    down = sum(c.status == "down" for c in components)
    troubled = sum(c.status != "ok" for c in components)
    overall = "ok" if not troubled else ("down" if down == len(components) else "degraded")
    uptime = (clock.now_us() - started_us) / 1e6
    return HealthCheckDto(overall, version, uptime, components)


async def audit_log(query: GetAuditLogQuery, *, audit_store: AuditStore) -> list[AuditEntry]:
    check_first(query.first)
    return await audit_store.list_entries(query)
