"""System events: the RFC's SystemHealthChangedEvent."""

from __future__ import annotations

from dataclasses import dataclass

from domain.events import Event

__all__ = ["SystemHealthChangedEvent"]


@dataclass(frozen=True, slots=True)
class SystemHealthChangedEvent(Event):
    status: str
    components: dict[str, str]

    def channel(self) -> str:
        return "system.health"
