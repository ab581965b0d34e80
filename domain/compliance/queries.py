"""Compliance queries: the RFC's GetComplianceReportQuery, audit verification, access."""

from __future__ import annotations

from dataclasses import dataclass

from domain.compliance.model import Framework
from domain.queries import Query

__all__ = [
    "GetAccessReviewQuery",
    "GetComplianceReportQuery",
    "ListAccessReviewsQuery",
    "ListComplianceRunsQuery",
    "ListRevocationsQuery",
    "VerifyAuditLogQuery",
]


@dataclass(frozen=True, slots=True)
class VerifyAuditLogQuery(Query):
    """Walk the project's audit chain over [start, end) and its checkpoints; None: all."""

    project: str
    start_us: int | None = None
    end_us: int | None = None


@dataclass(frozen=True, slots=True)
class GetAccessReviewQuery(Query):
    """Every subject seen with a role in the project now, with its use and flags."""

    project: str


@dataclass(frozen=True, slots=True)
class ListAccessReviewsQuery(Query):
    project: str
    first: int = 20


@dataclass(frozen=True, slots=True)
class ListRevocationsQuery(Query):
    project: str


@dataclass(frozen=True, slots=True)
class GetComplianceReportQuery(Query):
    project: str
    framework: Framework
    start_us: int
    end_us: int


@dataclass(frozen=True, slots=True)
class ListComplianceRunsQuery(Query):
    project: str
    first: int = 20
