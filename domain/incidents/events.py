"""Incident events, published on `incidents.<project>` once a change is stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from domain.events import Event

__all__ = ["IncidentUpdatedEvent"]


@dataclass(frozen=True, slots=True)
class IncidentUpdatedEvent(Event):
    """An incident opened, gained a member, changed state; `change` says what happened."""

    project: str
    incident_id: str
    state: str
    title: str
    change: str
    root: str
    members: int
    at_us: int
    version: int

    TOPIC: ClassVar[str] = "incidents"
