"""A message bus whose engine evaluates: started, fed by MetricCollectedEvent, hand-ticked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from domain.messagebus import EventHandler, MessageBus, Services
from domain.metrics.events import MetricCollectedEvent
from infra.alerting import AlertEngine
from infra.routing import COMMAND_HANDLERS, EVENT_HANDLERS, QUERY_HANDLERS
from tests.unit.alerting.handling import send


@pytest.fixture
async def alert_bus(services: Services, engine: AlertEngine) -> AsyncIterator[MessageBus]:
    events: dict[type, list[EventHandler]] = {k: list(v) for k, v in EVENT_HANDLERS.items()}
    events[MetricCollectedEvent].append(engine.on_points)
    bus = MessageBus(services, commands=COMMAND_HANDLERS, queries=QUERY_HANDLERS, events=events)
    await engine.start(publish=bus.publish)
    yield bus
    await engine.close()


@pytest.fixture
async def bus(alert_bus: MessageBus) -> MessageBus:
    await send(alert_bus, ("web-1", 10.0), ("web-2", 10.0))  # the metric exists
    return alert_bus
