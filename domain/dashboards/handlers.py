"""Dashboard command handlers: one short function per command."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from domain.changes import note_changes, note_target
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
from domain.dashboards.ports import DashboardStore
from domain.dashboards.query_handlers import (
    find_dashboard,
)
from domain.dashboards.spec import DashboardSpec, read_spec
from domain.errors import BadUserInput, NotFound
from domain.events import Event
from domain.metrics.ports import MetricStore
from domain.ports import Clock

__all__ = [
    "create_dashboard",
    "delete_dashboard",
    "duplicate_dashboard",
    "ensure_dashboard",
    "import_dashboard",
    "restore_dashboard",
    "update_dashboard",
]

MAX_NAME = 200


async def create_dashboard(
    command: CreateDashboardCommand,
    events: list[Event],
    *,
    dashboards: DashboardStore,
    metrics: MetricStore,
    clock: Clock,
) -> Dashboard:
    spec = await _checked(metrics, command.project, command.document)
    return await _insert(dashboards, clock, command.project, spec, command.actor, events)


async def import_dashboard(
    command: ImportDashboardCommand,
    events: list[Event],
    *,
    dashboards: DashboardStore,
    metrics: MetricStore,
    clock: Clock,
) -> Dashboard:
    spec = await _checked(metrics, command.project, command.document)
    return await _insert(dashboards, clock, command.project, spec, command.actor, events)


async def update_dashboard(
    command: UpdateDashboardCommand,
    events: list[Event],
    *,
    dashboards: DashboardStore,
    metrics: MetricStore,
    clock: Clock,
) -> Dashboard:
    current = await _at_version(
        dashboards, command.project, command.dashboard_id, command.expected_version
    )
    spec = await _checked(metrics, command.project, command.document)
    return await _replace(dashboards, clock, current, spec, command.actor, events)


async def restore_dashboard(
    command: RestoreDashboardCommand,
    events: list[Event],
    *,
    dashboards: DashboardStore,
    clock: Clock,
) -> Dashboard:
    """The old document as a new version; it was checked when it was saved."""
    current = await _at_version(
        dashboards, command.project, command.dashboard_id, command.expected_version
    )
    old = await dashboards.get_version(command.project, command.dashboard_id, command.version)
    if old is None:
        raise NotFound(f"dashboard {command.dashboard_id!r} has no version {command.version}")
    return await _replace(dashboards, clock, current, old.spec, command.actor, events)


async def duplicate_dashboard(
    command: DuplicateDashboardCommand,
    events: list[Event],
    *,
    dashboards: DashboardStore,
    clock: Clock,
) -> Dashboard:
    source = await find_dashboard(dashboards, command.project, command.dashboard_id)
    name = command.name if command.name is not None else f"{source.name} (copy)"[:MAX_NAME]
    if not name.strip() or len(name) > MAX_NAME:
        raise BadUserInput(f"name must be 1 to {MAX_NAME} characters")
    spec = replace(source.spec, name=name.strip())
    return await _insert(dashboards, clock, command.project, spec, command.actor, events)


async def delete_dashboard(
    command: DeleteDashboardCommand,
    events: list[Event],
    *,
    dashboards: DashboardStore,
    clock: Clock,
) -> bool:
    dashboard = await find_dashboard(dashboards, command.project, command.dashboard_id)
    note_target(dashboard=dashboard.id)
    note_changes(dashboard.spec.to_dict(), None)
    if not await dashboards.delete_dashboard(command.project, command.dashboard_id):
        raise NotFound(f"no dashboard {command.dashboard_id!r} in project {command.project!r}")
    events.append(_event(DashboardDeletedEvent, dashboard, command.actor, clock.now_us()))
    return True


async def ensure_dashboard(dashboards: DashboardStore, dashboard: Dashboard) -> bool:
    """Save a built-in dashboard unless its id exists already; True if it was saved now.

    Idempotent across restarts and racing instances: the store inserts only a new id.
    Its metrics may have no points yet, so the catalogue is not asked.
    """
    return await dashboards.save_dashboard(dashboard)


# -- helpers --------------------------------------------------------------------------------


async def _checked(
    metrics: MetricStore, project: str, document: DashboardSpec | Mapping[str, Any]
) -> DashboardSpec:
    spec = document if isinstance(document, DashboardSpec) else read_spec(document)
    await check_catalogue(metrics, project, spec)
    return spec


async def _insert(
    dashboards: DashboardStore,
    clock: Clock,
    project: str,
    spec: DashboardSpec,
    actor: str,
    events: list[Event],
) -> Dashboard:
    now = clock.now_us()
    dashboard = Dashboard(uuid.uuid4().hex, project, spec, created_at_us=now, created_by=actor)
    while not await dashboards.save_dashboard(dashboard):  # an id is never reused
        dashboard = replace(dashboard, id=uuid.uuid4().hex)
    note_target(dashboard=dashboard.id)
    note_changes(None, dashboard.spec.to_dict())
    events.append(_event(DashboardCreatedEvent, dashboard, actor, now))
    return dashboard


async def _at_version(
    dashboards: DashboardStore, project: str, dashboard_id: str, expected: int
) -> Dashboard:
    current = await find_dashboard(dashboards, project, dashboard_id)
    if current.version != expected:
        raise DashboardConflict(dashboard_id, current.version)
    return current


async def _replace(
    dashboards: DashboardStore,
    clock: Clock,
    current: Dashboard,
    spec: DashboardSpec,
    actor: str,
    events: list[Event],
) -> Dashboard:
    now = clock.now_us()
    changed = current.changed(spec, at_us=now, by=actor)
    note_target(dashboard=current.id)
    note_changes(current.spec.to_dict(), spec.to_dict())
    if not await dashboards.save_dashboard(changed, expected_version=current.version):
        latest = await find_dashboard(dashboards, current.project, current.id)
        raise DashboardConflict(current.id, latest.version)
    events.append(_event(DashboardUpdatedEvent, changed, actor, now))
    return changed


def _event(kind: type[DashboardEvent], dashboard: Dashboard, actor: str, at_us: int) -> Event:
    return kind(dashboard.project, dashboard.id, dashboard.name, dashboard.version, actor, at_us)
