"""Dashboard commands: the RFC's CreateDashboardCommand and UpdateDashboardCommand, and the
other changes a user makes (restore, duplicate, delete, import)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.commands import Command
from domain.dashboards.spec import DashboardSpec

__all__ = [
    "CreateDashboardCommand",
    "DeleteDashboardCommand",
    "DuplicateDashboardCommand",
    "ImportDashboardCommand",
    "RestoreDashboardCommand",
    "UpdateDashboardCommand",
]

# A dashboard document (DashboardSpec.to_dict's form), or an already read spec.
Document = DashboardSpec | Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CreateDashboardCommand(Command):
    project: str
    document: Document
    actor: str = ""


@dataclass(frozen=True, slots=True)
class UpdateDashboardCommand(Command):
    """Replace the document of a dashboard read at `expected_version`; refused with
    CONFLICT if it has changed since."""

    project: str
    dashboard_id: str
    expected_version: int
    document: Document
    actor: str = ""


@dataclass(frozen=True, slots=True)
class RestoreDashboardCommand(Command):
    """Make the document of an earlier `version` the current one (as a new version)."""

    project: str
    dashboard_id: str
    version: int
    expected_version: int
    actor: str = ""


@dataclass(frozen=True, slots=True)
class DuplicateDashboardCommand(Command):
    """A new dashboard with the same document; `name` None: the name with " (copy)"."""

    project: str
    dashboard_id: str
    name: str | None = None
    actor: str = ""


@dataclass(frozen=True, slots=True)
class DeleteDashboardCommand(Command):
    project: str
    dashboard_id: str
    actor: str = ""


@dataclass(frozen=True, slots=True)
class ImportDashboardCommand(Command):
    """A new dashboard from an exported JSON document (checked as a create is)."""

    project: str
    document: Mapping[str, Any]
    actor: str = ""
