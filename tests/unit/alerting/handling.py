"""Helpers of the alert handler tests: points in, alerts made and read through the bus."""

from __future__ import annotations

import asyncio
from typing import Any

from domain.alerting.commands import CreateAlertCommand
from domain.alerting.queries import GetAlertsByIdQuery
from domain.alerting.read_models import AlertDto
from domain.messagebus import MessageBus
from domain.metrics.commands import CreateMetricsCommand
from tests.unit.fakes import FakePublisher

S = 1_000_000
RULE: dict[str, Any] = {
    "name": "cpu high",
    "metric": "cpu",
    "threshold": 90.0,
    "aggregation": "last",
    "group_by": ["host"],
}


async def send(bus: MessageBus, *points: tuple[str, float], project: str = "acme") -> None:
    """Points (host, value) of `cpu`, stamped with the fake clock's now (no timestamp)."""
    raw = [{"name": "cpu", "value": v, "tags": {"host": h}} for h, v in points]
    await bus.handle(CreateMetricsCommand(project, raw))
    await asyncio.sleep(0)  # let the background writer run


async def create(bus: MessageBus, project: str = "acme", **rule: Any) -> AlertDto:
    dto: AlertDto = await bus.handle(
        CreateAlertCommand(project, RULE | rule, actor="alice"), actor="alice"
    )
    return dto


async def view(bus: MessageBus, alert_id: str, project: str = "acme") -> AlertDto:
    dto: AlertDto = await bus.ask(GetAlertsByIdQuery(project, alert_id))
    return dto


def alert_events(publisher: FakePublisher, project: str = "acme") -> list[str]:
    return [m["type"] for c, m in publisher.published if c == f"alerts.{project}"]
