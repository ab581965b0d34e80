"""System read models: health (the RFC's HealthCheckDto) and audit entries (AuditLogDto)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["AuditEntry", "ComponentHealthDto", "HealthCheckDto"]


@dataclass(frozen=True, slots=True)
class ComponentHealthDto:
    name: str
    status: str  # "ok" or "down"
    latency_ms: float
    version: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class HealthCheckDto:
    status: str  # "ok", "degraded" or "down"
    version: str
    uptime_seconds: float
    components: list[ComponentHealthDto]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what, where, when, and how it ended; `seq` orders entries for paging."""

    actor: str
    action: str
    project: str
    outcome: str  # "ok" or an error code such as FORBIDDEN
    timestamp_us: int
    request_id: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    seq: int = 0
