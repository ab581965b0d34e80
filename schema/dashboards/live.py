"""Dashboard live messages: new widget data, and dashboards as they are created."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.dashboards import DashboardCreatedEvent
from domain.dashboards import DashboardData as DomainData
from schema.dashboards.types import WidgetData
from schema.types import from_us

__all__ = ["DashboardCreated", "DashboardUpdate"]


@strawberry.type(description="New data of the widgets that changed, over [from, to).")
class DashboardUpdate:
    dashboard_id: strawberry.ID
    version: int = strawberry.field(description="A new version resends every widget.")
    from_: datetime = strawberry.field(name="from")
    to: datetime
    widgets: list[WidgetData]

    @classmethod
    def of(cls, d: DomainData) -> DashboardUpdate:
        return cls(
            dashboard_id=strawberry.ID(d.dashboard.id),
            version=d.dashboard.version,
            from_=from_us(d.start_us),
            to=from_us(d.end_us),
            widgets=[WidgetData.of(w) for w in d.widgets],
        )


@strawberry.type(description="DashboardCreatedEvent: created, duplicated or imported.")
class DashboardCreated:
    project: str
    dashboard_id: strawberry.ID
    name: str
    version: int
    created_by: str
    at: datetime

    @classmethod
    def of(cls, e: DashboardCreatedEvent) -> DashboardCreated:
        return cls(
            project=e.project,
            dashboard_id=strawberry.ID(e.dashboard_id),
            name=e.name,
            version=e.version,
            created_by=e.by,
            at=from_us(e.at_us),
        )
