"""System events: the RFC's SystemHealthChangedEvent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from domain.events import Event

__all__ = ["SystemHealthChangedEvent"]


@dataclass(frozen=True, slots=True)
class SystemHealthChangedEvent(Event):
    """The overall status or a component's status of one instance changed, and why.

    `components` and `reasons` are by component name (store, event_bus, notifications,
    disk, jobs); `changed` names the components whose status moved."""

    status: str  # ok, degraded or down
    components: dict[str, str]
    previous_status: str = ""
    reasons: dict[str, str] = field(default_factory=dict)
    changed: list[str] = field(default_factory=list)
    instance: str = ""
    at_us: int = 0
    project: str = "system"  # every instance's health, on one channel: `health.system`

    TOPIC: ClassVar[str] = "health"
