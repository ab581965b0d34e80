"""System read models: health (the RFC's HealthCheckDto) and audit entries (AuditLogDto)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["AuditEntry", "ComponentHealthDto", "HealthCheckDto"]


@dataclass(frozen=True, slots=True)
class ComponentHealthDto:
    name: str
    status: str  # "ok", "degraded" or "down"
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
    """Who did what, where, when, and how it ended; `seq` orders entries for paging.

    `role` is the actor's role in the project when it acted; `target` the ids it touched;
    `changes` each changed field as {field, old, new, redacted} (a secret keeps its name
    only); `client` the address the request came from. `chain_index`, `prev_hash` and
    `hash` place the entry in its project's chain (domain/system/model.py)."""

    actor: str
    action: str
    project: str
    outcome: str  # "ok" or an error code such as FORBIDDEN
    timestamp_us: int
    request_id: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    seq: int = 0
    role: str = ""
    target: dict[str, str] = field(default_factory=dict)
    changes: list[dict[str, Any]] = field(default_factory=list)
    client: str = ""
    chain_index: int = 0
    prev_hash: str = ""
    hash: str = ""
