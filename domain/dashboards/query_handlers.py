"""Dashboard query handlers, and the look-ups the command handlers share."""

from __future__ import annotations

import asyncio
from typing import Any

from domain.dashboards.dashboard import Dashboard
from domain.dashboards.data import widget_data
from domain.dashboards.overlays import OverlayCache
from domain.dashboards.ports import DashboardStore
from domain.dashboards.queries import (
    ExportDashboardQuery,
    GetDashboardDataQuery,
    GetDashboardHistoryQuery,
    GetDashboardQuery,
    GetDashboardsListQuery,
)
from domain.dashboards.read_models import DashboardData, VariableState
from domain.dashboards.variables import resolve_values
from domain.errors import BadUserInput, NotFound
from domain.messagebus import Ask
from domain.metrics.ports import MetricStore
from domain.paging import Page, check_first
from domain.ports import Clock

__all__ = [
    "dashboard_data",
    "dashboard_history",
    "export_dashboard",
    "find_dashboard",
    "get_dashboard",
    "list_dashboards",
]

MAX_OPTIONS = 200
MIN_WIDTH_PX, MAX_WIDTH_PX = 100, 20_000


async def get_dashboard(query: GetDashboardQuery, *, dashboards: DashboardStore) -> Dashboard:
    dashboard = await find_dashboard(dashboards, query.project, query.id)
    if query.version is None or query.version == dashboard.version:
        return dashboard
    old = await dashboards.get_version(query.project, query.id, query.version)
    if old is None:
        raise NotFound(f"dashboard {query.id!r} has no version {query.version}")
    return old


async def list_dashboards(
    query: GetDashboardsListQuery, *, dashboards: DashboardStore
) -> Page[Dashboard]:
    check_first(query.first)
    found = await dashboards.list_dashboards(query.project)
    if query.search:
        needle = query.search.casefold()
        found = [
            d
            for d in found
            if needle in d.name.casefold() or needle in d.spec.description.casefold()
        ]
    found.sort(key=lambda d: (d.name.casefold(), d.id))
    if query.after is not None:
        ids = [d.id for d in found]
        if query.after not in ids:
            raise BadUserInput("after is not the id of a dashboard of this list")
        found = found[ids.index(query.after) + 1 :]
    return Page(found[: query.first], has_next_page=len(found) > query.first)


async def dashboard_history(
    query: GetDashboardHistoryQuery, *, dashboards: DashboardStore
) -> list[Dashboard]:
    check_first(query.first)
    await find_dashboard(dashboards, query.project, query.id)
    return await dashboards.list_versions(query.project, query.id, first=query.first)


async def export_dashboard(
    query: ExportDashboardQuery, *, dashboards: DashboardStore
) -> dict[str, Any]:
    dashboard = await find_dashboard(dashboards, query.project, query.id)
    return dashboard.spec.to_dict(with_ids=False)


async def dashboard_data(
    query: GetDashboardDataQuery,
    *,
    dashboards: DashboardStore,
    metrics: MetricStore,
    clock: Clock,
    ask: Ask,
    dashboard_overlays: OverlayCache,
) -> DashboardData:
    """Every widget's data in one call, widgets answered concurrently; each widget asks the
    bus (metricSeries, alerts) as a caller would, so it gets the same checks."""
    dashboard = await get_dashboard(
        GetDashboardQuery(query.project, query.id, query.version), dashboards=dashboards
    )
    spec = dashboard.spec
    values = resolve_values(spec, query.variables)
    end = query.end_us if query.end_us is not None else clock.now_us()
    start = query.start_us if query.start_us is not None else end - spec.time_range_us
    if start >= end:
        raise BadUserInput("from must be before to")
    if not MIN_WIDTH_PX <= query.width_px <= MAX_WIDTH_PX:
        raise BadUserInput(f"width must be between {MIN_WIDTH_PX} and {MAX_WIDTH_PX} pixels")
    widgets = [w for w in spec.widgets if query.widget_ids is None or w.id in query.widget_ids]
    data = await asyncio.gather(
        *(
            widget_data(
                ask,
                query.project,
                widget,
                start_us=start,
                end_us=end,
                values=values,
                width_px=query.width_px,
                overlays=dashboard_overlays,
            )
            for widget in widgets
        )
    )
    states = []
    if query.widget_ids is None:  # live updates need no choices
        for variable in spec.variables:
            options = await metrics.tag_values(
                query.project, variable.tag, variable.metric or None, MAX_OPTIONS
            )
            states.append(VariableState(variable.name, values[variable.name], options))
    return DashboardData(dashboard, start, end, states, list(data))


async def find_dashboard(dashboards: DashboardStore, project: str, dashboard_id: str) -> Dashboard:
    """The dashboard, or NotFound: a foreign id answers exactly as a missing one."""
    dashboard = await dashboards.get_dashboard(project, dashboard_id)
    if dashboard is None:
        raise NotFound(f"no dashboard {dashboard_id!r} in project {project!r}")
    return dashboard
