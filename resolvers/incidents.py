"""Incident operations: list, read, acknowledge and resolve whole incidents, grouping."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.commands import Command
from domain.incidents.commands import AcknowledgeIncidentCommand, ResolveIncidentCommand
from domain.incidents.queries import (
    GetIncidentQuery,
    GetIncidentSettingsQuery,
    ListIncidentsQuery,
)
from schema.context import Info
from schema.incidents import (
    Incident,
    IncidentConnection,
    IncidentSettings,
    IncidentSettingsInput,
    IncidentState,
)
from schema.types import PageInfo, to_us

__all__ = [
    "acknowledge_incident",
    "configure_incidents",
    "incident",
    "incident_settings",
    "incidents",
    "resolve_incident",
]


async def _handle(info: Info, command: Command) -> Any:
    return await info.context.bus.handle(
        command, actor=info.context.require_principal().subject, request_id=info.context.request_id
    )


async def incidents(
    info: Info,
    project: str,
    state: IncidentState | None = None,  # type: ignore[valid-type]
    first: int = 100,
    after: strawberry.ID | None = None,
) -> IncidentConnection:
    page = await info.context.bus.ask(
        ListIncidentsQuery(project, state, first, None if after is None else str(after))
    )
    items = [Incident.of(i) for i in page.items]
    return IncidentConnection(
        items=items,
        page_info=PageInfo(
            end_cursor=str(items[-1].id) if items else None, has_next_page=page.has_next_page
        ),
    )


async def incident(info: Info, project: str, id: strawberry.ID) -> Incident:
    """Another project's id answers NOT_FOUND, as a missing one."""
    return Incident.of(await info.context.bus.ask(GetIncidentQuery(project, str(id))))


async def incident_settings(info: Info, project: str) -> IncidentSettings:
    return IncidentSettings.of(await info.context.bus.ask(GetIncidentSettingsQuery(project)))


async def acknowledge_incident(
    info: Info,
    project: str,
    incident_id: strawberry.ID,
    until: datetime | None = None,
    comment: str = "",
) -> Incident:
    """Every firing member alert acknowledged (as acknowledgeAlert), then the incident."""
    actor = info.context.require_principal().subject
    command = AcknowledgeIncidentCommand(project, str(incident_id), comment, to_us(until), actor)
    return Incident.of(await _handle(info, command))


async def resolve_incident(
    info: Info, project: str, incident_id: strawberry.ID, comment: str = ""
) -> Incident:
    """Every member alert that is not resolved resolved by hand, then the incident."""
    actor = info.context.require_principal().subject
    command = ResolveIncidentCommand(project, str(incident_id), comment, actor)
    return Incident.of(await _handle(info, command))


async def configure_incidents(
    info: Info, project: str, settings: IncidentSettingsInput
) -> IncidentSettings:
    actor = info.context.require_principal().subject
    return IncidentSettings.of(await _handle(info, settings.to_command(project, actor)))
