"""System queries: the RFC's GetSystemHealthQuery and GetAuditLogQuery."""

from __future__ import annotations

from dataclasses import dataclass

from domain.queries import Query

__all__ = ["GetAuditLogQuery", "GetSystemHealthQuery"]


@dataclass(frozen=True, slots=True)
class GetSystemHealthQuery(Query):
    pass


@dataclass(frozen=True, slots=True)
class GetAuditLogQuery(Query):
    project: str
    actor: str | None = None
    action: str | None = None
    start_us: int | None = None
    end_us: int | None = None
    first: int = 100
    after: int | None = None  # sequence number of the last entry seen
