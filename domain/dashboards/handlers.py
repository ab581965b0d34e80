"""Dashboard command handlers, and the tables routing dashboard commands, queries and events
(domain/handlers.py merges them into the bus's tables)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from domain.commands import Command
from domain.dashboards.catalogue_check import check_catalogue
from domain.dashboards.commands import (
    CreateDashboardCommand,
    DeleteDashboardCommand,
    DuplicateDashboardCommand,
    ImportDashboardCommand,
    RestoreDashboardCommand,
    UpdateDashboardCommand,
)
from domain.dashboards.dashboard import Dashboard
from domain.dashboards.errors import DashboardConflict
from domain.dashboards.events import (
    DashboardCreatedEvent,
    DashboardDeletedEvent,
    DashboardEvent,
    DashboardUpdatedEvent,
)
from domain.dashboards.queries import (
    ExportDashboardQuery,
    GetDashboardDataQuery,
    GetDashboardHistoryQuery,
    GetDashboardQuery,
    GetDashboardsListQuery,
)
from domain.dashboards.query_handlers import (
    dashboard_data,
    dashboard_history,
    export_dashboard,
    find_dashboard,
    get_dashboard,
    list_dashboards,
)
from domain.dashboards.spec import DashboardSpec, read_spec
from domain.errors import BadUserInput, NotFound
from domain.events import Event
from domain.messagebus import CommandHandler, QueryHandler, Services
from domain.queries import Query

__all__ = [
    "DASHBOARD_COMMAND_HANDLERS",
    "DASHBOARD_EVENTS",
    "DASHBOARD_QUERY_HANDLERS",
    "ensure_dashboard",
]

MAX_NAME = 200


async def create_dashboard(
    command: CreateDashboardCommand, services: Services, events: list[Event]
) -> Dashboard:
    spec = await _checked(services, command.project, command.document)
    return await _insert(services, command.project, spec, command.actor, events)


async def import_dashboard(
    command: ImportDashboardCommand, services: Services, events: list[Event]
) -> Dashboard:
    spec = await _checked(services, command.project, command.document)
    return await _insert(services, command.project, spec, command.actor, events)


async def update_dashboard(
    command: UpdateDashboardCommand, services: Services, events: list[Event]
) -> Dashboard:
    current = await _at_version(
        services, command.project, command.dashboard_id, command.expected_version
    )
    spec = await _checked(services, command.project, command.document)
    return await _replace(services, current, spec, command.actor, events)


async def restore_dashboard(
    command: RestoreDashboardCommand, services: Services, events: list[Event]
) -> Dashboard:
    """The old document as a new version; it was checked when it was saved."""
    current = await _at_version(
        services, command.project, command.dashboard_id, command.expected_version
    )
    old = await services.dashboards.get_version(
        command.project, command.dashboard_id, command.version
    )
    if old is None:
        raise NotFound(f"dashboard {command.dashboard_id!r} has no version {command.version}")
    return await _replace(services, current, old.spec, command.actor, events)


async def duplicate_dashboard(
    command: DuplicateDashboardCommand, services: Services, events: list[Event]
) -> Dashboard:
    source = await find_dashboard(services, command.project, command.dashboard_id)
    name = command.name if command.name is not None else f"{source.name} (copy)"[:MAX_NAME]
    if not name.strip() or len(name) > MAX_NAME:
        raise BadUserInput(f"name must be 1 to {MAX_NAME} characters")
    spec = replace(source.spec, name=name.strip())
    return await _insert(services, command.project, spec, command.actor, events)


async def delete_dashboard(
    command: DeleteDashboardCommand, services: Services, events: list[Event]
) -> bool:
    dashboard = await find_dashboard(services, command.project, command.dashboard_id)
    if not await services.dashboards.delete_dashboard(command.project, command.dashboard_id):
        raise NotFound(f"no dashboard {command.dashboard_id!r} in project {command.project!r}")
    events.append(_event(DashboardDeletedEvent, dashboard, command.actor, services.clock.now_us()))
    return True


async def ensure_dashboard(services: Services, dashboard: Dashboard) -> bool:
    """Save a built-in dashboard unless its id exists already; True if it was saved now.

    Idempotent across restarts and racing instances: the store inserts only a new id.
    Its metrics may have no points yet, so the catalogue is not asked.
    """
    return await services.dashboards.save_dashboard(dashboard)


# -- helpers --------------------------------------------------------------------------------


async def _checked(
    services: Services, project: str, document: DashboardSpec | Mapping[str, Any]
) -> DashboardSpec:
    spec = document if isinstance(document, DashboardSpec) else read_spec(document)
    await check_catalogue(services, project, spec)
    return spec


async def _insert(
    services: Services, project: str, spec: DashboardSpec, actor: str, events: list[Event]
) -> Dashboard:
    now = services.clock.now_us()
    dashboard = Dashboard(uuid.uuid4().hex, project, spec, created_at_us=now, created_by=actor)
    while not await services.dashboards.save_dashboard(dashboard):  # an id is never reused
        dashboard = replace(dashboard, id=uuid.uuid4().hex)
    events.append(_event(DashboardCreatedEvent, dashboard, actor, now))
    return dashboard


async def _at_version(
    services: Services, project: str, dashboard_id: str, expected: int
) -> Dashboard:
    current = await find_dashboard(services, project, dashboard_id)
    if current.version != expected:
        raise DashboardConflict(dashboard_id, current.version)
    return current


async def _replace(
    services: Services, current: Dashboard, spec: DashboardSpec, actor: str, events: list[Event]
) -> Dashboard:
    now = services.clock.now_us()
    changed = current.changed(spec, at_us=now, by=actor)
    if not await services.dashboards.save_dashboard(changed, expected_version=current.version):
        latest = await find_dashboard(services, current.project, current.id)
        raise DashboardConflict(current.id, latest.version)
    events.append(_event(DashboardUpdatedEvent, changed, actor, now))
    return changed


def _event(kind: type[DashboardEvent], dashboard: Dashboard, actor: str, at_us: int) -> Event:
    return kind(dashboard.project, dashboard.id, dashboard.name, dashboard.version, actor, at_us)


DASHBOARD_COMMAND_HANDLERS: dict[type[Command], CommandHandler] = {
    CreateDashboardCommand: create_dashboard,
    UpdateDashboardCommand: update_dashboard,
    RestoreDashboardCommand: restore_dashboard,
    DuplicateDashboardCommand: duplicate_dashboard,
    DeleteDashboardCommand: delete_dashboard,
    ImportDashboardCommand: import_dashboard,
}
DASHBOARD_QUERY_HANDLERS: dict[type[Query], QueryHandler] = {
    GetDashboardQuery: get_dashboard,
    GetDashboardsListQuery: list_dashboards,
    GetDashboardHistoryQuery: dashboard_history,
    GetDashboardDataQuery: dashboard_data,
    ExportDashboardQuery: export_dashboard,
}
# Published on the event bus (channel `dashboards.<project>`) as they happen.
DASHBOARD_EVENTS: tuple[type[Event], ...] = (
    DashboardCreatedEvent,
    DashboardUpdatedEvent,
    DashboardDeletedEvent,
)
