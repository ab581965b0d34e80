"""Metric commands: the RFC's CreateMetricCommand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from domain.commands import Command
from domain.metrics.ingest import PointColumns
from domain.metrics.model import MetricDescription

__all__ = ["CreateMetricsCommand"]


@dataclass(frozen=True, slots=True)
class CreateMetricsCommand(Command):
    """CreateMetricCommand of the RFC, for one point or a batch; all-or-nothing.

    `points` is the raw JSON list (points, or series entries with arrays), or the columns
    a collector decoded: validating it is the handler's job, so every entry point
    (GraphQL, HTTP, collectors) gets the same checks and the same error messages.
    `descriptions` carry what a sender says about metric names (type, help, unit); a
    request may hold only descriptions (Prometheus sends its metadata on its own).
    """

    # Its "ok" audit entry may commit with its points (AuditNote.ok_entry): nothing
    # after the append can fail it.
    audit_with_write: ClassVar[bool] = True

    project: str
    points: list[Any] | PointColumns
    idempotency_key: str | None = None
    descriptions: tuple[MetricDescription, ...] = ()
