"""Dashboard subscriptions: widget data pushed as points arrive, and new dashboards.

`dashboardUpdated` listens to the project's metrics, alerts and dashboards channels,
coalesces what arrives per tick, and recomputes only the widgets it touched: a busy
series gives each widget at most 1 / TICK_SECONDS messages a second.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator

import strawberry

from domain.alerting.events import AlertEvent
from domain.dashboards.events import DashboardCreatedEvent, DashboardDeletedEvent, DashboardEvent
from domain.dashboards.live import LiveView
from domain.dashboards.queries import (
    DEFAULT_WIDTH_PX,
    GetDashboardDataQuery,
    GetDashboardQuery,
)
from domain.dashboards.variables import resolve_values
from domain.durations import parse_duration
from domain.events import Event
from domain.metrics.events import MetricCollectedEvent
from resolvers.dashboards import Range, Width, variables_of
from resolvers.metrics_live import coalesce
from schema.context import Info
from schema.dashboards import DashboardCreated, DashboardUpdate
from schema.scalars import Tags

__all__ = ["TICK_SECONDS", "dashboard_created", "dashboard_updated", "merged"]

TICK_SECONDS = 0.25


async def merged(*streams: AsyncIterator[Event]) -> AsyncGenerator[Event, None]:
    """The events of several streams as they come; ends when one of them fails."""
    queue: asyncio.Queue[Event | BaseException] = asyncio.Queue()

    async def pump(stream: AsyncIterator[Event]) -> None:
        try:
            async for message in stream:
                queue.put_nowait(message)
        except Exception as exc:
            queue.put_nowait(exc)
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()

    tasks = [asyncio.create_task(pump(stream)) for stream in streams]
    try:
        while True:
            item = await queue.get()
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def dashboard_updated(
    info: Info,
    project: str,
    id: strawberry.ID,
    variables: Tags | None = None,
    range_: Range = None,
    width: Width = None,
) -> AsyncGenerator[DashboardUpdate, None]:
    """The new data of the widgets that points (or alerts) changed, over the range up to
    now; a new version of the dashboard resends every widget, its deletion ends the
    subscription. Ask `dashboard` once for the first picture."""
    bus, dashboard_id = info.context.bus, str(id)
    chosen = variables_of(variables)
    dashboard = await bus.ask(GetDashboardQuery(project, dashboard_id))  # NOT_FOUND first
    view = LiveView(dashboard, resolve_values(dashboard.spec, chosen))
    span_us = None if range_ is None else max(parse_duration(range_, "range"), 1)
    subscriber = info.context.subscriber
    events = merged(
        subscriber.subscribe(MetricCollectedEvent.channel_for(project)),
        subscriber.subscribe(AlertEvent.channel_for(project)),
        subscriber.subscribe(DashboardEvent.channel_for(project)),
    )
    async for batch in coalesce(events, TICK_SECONDS):
        mine = [m for m in batch if view.concerns(m)]
        if any(isinstance(m, DashboardDeletedEvent) for m in mine):
            return
        touched: set[str] = set()
        for message in batch:
            if message in mine:
                changed = await bus.ask(GetDashboardQuery(project, dashboard_id))
                view = LiveView(changed, resolve_values(changed.spec, chosen))
                touched |= {w.id for w in changed.spec.widgets}
            else:
                touched |= view.touched(message)
        if not touched:
            continue
        end = info.context.clock.now_us()
        span = span_us if span_us is not None else view.dashboard.spec.time_range_us
        data = await bus.ask(
            GetDashboardDataQuery(
                project,
                dashboard_id,
                end - span,
                end,
                chosen,
                width or DEFAULT_WIDTH_PX,
                frozenset(touched),
            )
        )
        yield DashboardUpdate.of(data)


async def dashboard_created(info: Info, project: str) -> AsyncGenerator[DashboardCreated, None]:
    """DashboardCreatedEvent: a dashboard was created, duplicated or imported."""
    events = info.context.subscriber.subscribe(DashboardEvent.channel_for(project))
    try:
        async for event in events:
            if isinstance(event, DashboardCreatedEvent):
                yield DashboardCreated.of(event)
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
