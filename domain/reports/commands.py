"""Report commands: the RFC's CreateReportCommand, and the changes and runs users ask for."""

from __future__ import annotations

from dataclasses import dataclass

from domain.commands import Command
from domain.reports.model import Report

__all__ = [
    "CreateReportCommand",
    "DeleteReportCommand",
    "ExpireReportArtefactsCommand",
    "RunReportCommand",
    "UpdateReportCommand",
]


@dataclass(frozen=True, slots=True)
class CreateReportCommand(Command):
    """`definition`'s id, version and authorship are filled in by the handler."""

    project: str
    definition: Report
    actor: str = ""


@dataclass(frozen=True, slots=True)
class UpdateReportCommand(Command):
    """Replace the definition of a report read at `expected_version`; CONFLICT if it has
    changed since."""

    project: str
    report_id: str
    expected_version: int
    definition: Report
    actor: str = ""


@dataclass(frozen=True, slots=True)
class DeleteReportCommand(Command):
    """The report, its runs and their files."""

    project: str
    report_id: str
    actor: str = ""


@dataclass(frozen=True, slots=True)
class RunReportCommand(Command):
    """Produce the report now (`trigger` manual) or for a scheduled slot (`schedule`,
    `catch_up`, with `slot_us` the slot's instant, which is also the range's end)."""

    project: str
    report_id: str
    trigger: str = "manual"
    slot_us: int = 0
    actor: str = ""


@dataclass(frozen=True, slots=True)
class ExpireReportArtefactsCommand(Command):
    """Remove the files of runs older than their report's artefact retention (the
    periodic sweep); the runs stay, marked expired."""
