"""Incident query handlers."""

from __future__ import annotations

from domain.errors import BadUserInput, NotFound
from domain.incidents.model import Incident, IncidentSettings
from domain.incidents.ports import IncidentStore
from domain.incidents.queries import GetIncidentQuery, GetIncidentSettingsQuery, ListIncidentsQuery
from domain.paging import Page, check_first

__all__ = ["get_incident", "incident_settings", "list_incidents"]


async def list_incidents(query: ListIncidentsQuery, *, incidents: IncidentStore) -> Page[Incident]:
    check_first(query.first)
    before = None
    if query.after is not None:
        last = await incidents.get_incident(query.project, query.after)
        if last is None:
            raise BadUserInput("after is not the id of an incident of this project")
        before = (last.opened_us, last.id)
    found = await incidents.list_incidents(
        query.project, state=query.state, before=before, first=query.first + 1
    )
    return Page(found[: query.first], len(found) > query.first)


async def get_incident(query: GetIncidentQuery, *, incidents: IncidentStore) -> Incident:
    found = await incidents.get_incident(query.project, query.id)
    if found is None:
        raise NotFound(f"no incident {query.id!r} in project {query.project!r}")
    return found


async def incident_settings(
    query: GetIncidentSettingsQuery, *, incidents: IncidentStore
) -> IncidentSettings:
    return await incidents.get_incident_settings(query.project) or IncidentSettings()
