"""Analytics commands: the RFC's CreateAnalyticsJobCommand, and cancelling a job."""

from __future__ import annotations

from dataclasses import dataclass

from domain.analytics.model import AnalyticsInput
from domain.analytics.results import AnalyticsKind
from domain.commands import Command

__all__ = ["CancelAnalyticsJobCommand", "CreateAnalyticsJobCommand"]


@dataclass(frozen=True, slots=True)
class CreateAnalyticsJobCommand(Command):
    """Store a job (QUEUED); a runner of any instance takes it. `timeout_us` None: the
    default of the settings."""

    project: str
    kind: AnalyticsKind
    input: AnalyticsInput
    timeout_us: int | None = None
    actor: str = ""


@dataclass(frozen=True, slots=True)
class CancelAnalyticsJobCommand(Command):
    """A queued job is cancelled at once; a running one stops within a second, its
    worker processes killed."""

    project: str
    job_id: str
    actor: str = ""
