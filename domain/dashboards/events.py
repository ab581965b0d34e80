"""Dashboard events, published on `dashboards.<project>`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from domain.events import Event

__all__ = [
    "DashboardCreatedEvent",
    "DashboardDeletedEvent",
    "DashboardEvent",
    "DashboardUpdatedEvent",
]


@dataclass(frozen=True, slots=True)
class DashboardEvent(Event):
    project: str
    dashboard_id: str
    name: str
    version: int
    by: str
    at_us: int

    TOPIC: ClassVar[str] = "dashboards"


@dataclass(frozen=True, slots=True)
class DashboardCreatedEvent(DashboardEvent):
    """A new dashboard: created, duplicated or imported."""


@dataclass(frozen=True, slots=True)
class DashboardUpdatedEvent(DashboardEvent):
    """A new version: updated or restored."""


@dataclass(frozen=True, slots=True)
class DashboardDeletedEvent(DashboardEvent):
    pass
