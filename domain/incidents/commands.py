"""Incident commands: acknowledge and resolve at incident level, and the grouping settings."""

from __future__ import annotations

from dataclasses import dataclass

from domain.commands import Command
from domain.incidents.model import Dependency

__all__ = [
    "AcknowledgeIncidentCommand",
    "ConfigureIncidentsCommand",
    "ResolveIncidentCommand",
]


@dataclass(frozen=True, slots=True)
class AcknowledgeIncidentCommand(Command):
    """Acknowledge every firing member alert instance (with `until_us` as for alerts)."""

    project: str
    incident_id: str
    comment: str = ""
    until_us: int | None = None
    actor: str = ""


@dataclass(frozen=True, slots=True)
class ResolveIncidentCommand(Command):
    """Resolve every member alert instance that is not resolved, and the incident."""

    project: str
    incident_id: str
    comment: str = ""
    actor: str = ""


@dataclass(frozen=True, slots=True)
class ConfigureIncidentsCommand(Command):
    project: str
    window_us: int
    tags: tuple[str, ...] | None = None
    dependency_tag: str = "service"
    dependencies: tuple[Dependency, ...] = ()
    actor: str = ""
