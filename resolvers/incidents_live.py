"""Incident subscription: `incidents.<project>` on the bus."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from domain.incidents.events import IncidentUpdatedEvent
from schema.context import Info
from schema.incidents import IncidentUpdated

__all__ = ["incident_updated"]


async def incident_updated(info: Info, project: str) -> AsyncGenerator[IncidentUpdated, None]:
    """Each stored change of an incident of the project: opened, joined, state changed."""
    events = info.context.subscriber.subscribe(IncidentUpdatedEvent.channel_for(project))
    try:
        async for event in events:
            if isinstance(event, IncidentUpdatedEvent):
                yield IncidentUpdated.of(event)
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
