"""Dashboard operations: one thin function per mutation and query, each a command or a query
handed to the bus."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry

from domain.commands import Command
from domain.dashboards.commands import (
    CreateDashboardCommand,
    DeleteDashboardCommand,
    DuplicateDashboardCommand,
    ImportDashboardCommand,
    RestoreDashboardCommand,
    UpdateDashboardCommand,
)
from domain.dashboards.queries import (
    ExportDashboardQuery,
    GetDashboardQuery,
    GetDashboardsListQuery,
)
from domain.durations import parse_duration
from domain.errors import BadUserInput
from schema.context import Info
from schema.dashboards import Dashboard, DashboardConnection, DashboardInput, DataRequest
from schema.scalars import Duration, JSONObject, Tags
from schema.types import PageInfo, to_us

__all__ = [
    "create_dashboard",
    "dashboard",
    "dashboards",
    "delete_dashboard",
    "duplicate_dashboard",
    "export_dashboard",
    "import_dashboard",
    "restore_dashboard",
    "update_dashboard",
    "variables_of",
    "window_of",
]

From = Annotated[datetime | None, strawberry.argument(name="from")]
Range = Annotated[
    Duration | None,
    strawberry.argument(
        name="range", description="How far back from `to` (e.g. 1h); default: the dashboard's."
    ),
]
Width = Annotated[
    int | None,
    strawberry.argument(description="The dashboard's width in pixels; steps follow from it."),
]
MAX_VARIABLES = 20


async def _handle(info: Info, command: Command) -> Any:
    return await info.context.bus.handle(
        command, actor=_actor(info), request_id=info.context.request_id
    )


def _actor(info: Info) -> str:
    return info.context.require_principal().subject


def variables_of(variables: Tags | None) -> dict[str, str]:
    if variables is None:
        return {}
    if not isinstance(variables, dict) or len(variables) > MAX_VARIABLES:
        raise BadUserInput(f"variables must be an object of at most {MAX_VARIABLES} values")
    bad = sorted(str(k) for k, v in variables.items() if not isinstance(v, str))
    if bad:
        raise BadUserInput(f"variable values must be text: {', '.join(bad)}")
    return dict(variables)


def window_of(
    info: Info, from_: datetime | None, to: datetime | None, range_: Duration | None
) -> tuple[int | None, int | None]:
    """(start, end) in microseconds; None lets the dashboard's defaults apply."""
    start, end = to_us(from_), to_us(to)
    if range_ is not None:
        if from_ is not None:
            raise BadUserInput("give from or range, not both")
        end = end if end is not None else info.context.clock.now_us()
        start = end - max(parse_duration(range_, "range"), 1)
    return start, end


async def create_dashboard(info: Info, project: str, dashboard: DashboardInput) -> Dashboard:
    """CreateDashboardCommand: every query is checked against the metrics catalogue."""
    command = CreateDashboardCommand(project, dashboard.to_document(), _actor(info))
    return Dashboard.of(await _handle(info, command))


async def update_dashboard(
    info: Info,
    project: str,
    dashboard_id: strawberry.ID,
    expected_version: int,
    dashboard: DashboardInput,
) -> Dashboard:
    """UpdateDashboardCommand: replace the whole document; refused with CONFLICT when the
    dashboard is no longer at `expectedVersion`."""
    command = UpdateDashboardCommand(
        project, str(dashboard_id), expected_version, dashboard.to_document(), _actor(info)
    )
    return Dashboard.of(await _handle(info, command))


async def restore_dashboard(
    info: Info, project: str, dashboard_id: strawberry.ID, version: int, expected_version: int
) -> Dashboard:
    """Make an earlier version current again, as a new version."""
    command = RestoreDashboardCommand(
        project, str(dashboard_id), version, expected_version, _actor(info)
    )
    return Dashboard.of(await _handle(info, command))


async def duplicate_dashboard(
    info: Info, project: str, dashboard_id: strawberry.ID, name: str | None = None
) -> Dashboard:
    command = DuplicateDashboardCommand(project, str(dashboard_id), name, _actor(info))
    return Dashboard.of(await _handle(info, command))


async def delete_dashboard(info: Info, project: str, dashboard_id: strawberry.ID) -> bool:
    """Delete the dashboard and its history."""
    done: bool = await _handle(
        info, DeleteDashboardCommand(project, str(dashboard_id), _actor(info))
    )
    return done


async def import_dashboard(info: Info, project: str, document: JSONObject) -> Dashboard:
    """A new dashboard from the JSON that exportDashboard gives, checked as a create is."""
    if not isinstance(document, dict):
        raise BadUserInput("document must be a JSON object (what exportDashboard gives)")
    return Dashboard.of(
        await _handle(info, ImportDashboardCommand(project, document, _actor(info)))
    )


async def dashboard(
    info: Info,
    project: str,
    id: strawberry.ID,
    from_: From = None,
    to: datetime | None = None,
    range_: Range = None,
    variables: Tags | None = None,
    width: Width = None,
    version: int | None = None,
) -> Dashboard:
    """GetDashboardQuery; its `data` holds every widget's data over the range, with the
    variables' values and steps fitted to `width`, in this one round trip. Another
    project's id answers NOT_FOUND, as a missing one."""
    start, end = window_of(info, from_, to, range_)
    request = DataRequest(start, end, variables_of(variables), width)
    found = await info.context.bus.ask(GetDashboardQuery(project, str(id), version))
    return Dashboard.of(found, request)


async def dashboards(
    info: Info,
    project: str,
    search: str | None = None,
    first: int = 100,
    after: strawberry.ID | None = None,
) -> DashboardConnection:
    """GetDashboardsListQuery: by name; `search` matches name or description, any case."""
    if search is not None and len(search) > 200:
        raise BadUserInput("search holds at most 200 characters")
    page = await info.context.bus.ask(
        GetDashboardsListQuery(project, search, first, None if after is None else str(after))
    )
    items = [Dashboard.of(d) for d in page.items]
    return DashboardConnection(
        items=items,
        page_info=PageInfo(
            end_cursor=str(items[-1].id) if items else None, has_next_page=page.has_next_page
        ),
    )


async def export_dashboard(info: Info, project: str, id: strawberry.ID) -> JSONObject:
    """The dashboard as JSON for version control: no ids, authors or versions."""
    return JSONObject(await info.context.bus.ask(ExportDashboardQuery(project, str(id))))
