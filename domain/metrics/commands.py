"""Metric commands: the RFC's CreateMetricCommand."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.commands import Command

__all__ = ["CreateMetricsCommand"]


@dataclass(frozen=True, slots=True)
class CreateMetricsCommand(Command):
    """CreateMetricCommand of the RFC, for one point or a batch; all-or-nothing.

    `points` is the raw JSON list: validating it is the handler's job, so every entry
    point (GraphQL, HTTP, collectors) gets the same checks and the same error messages.
    """

    project: str
    points: list[Any]
    idempotency_key: str | None = None
