"""A message bus whose engine evaluates: started, fed by MetricCollectedEvent, hand-ticked."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from domain.alerting.runtime import AlertEngine
from domain.messagebus import MessageBus
from tests.unit.alerting.handling import send
from tests.unit.conftest import unit_bus


@pytest.fixture
async def alert_bus(dependencies: dict[str, Any], engine: AlertEngine) -> AsyncIterator[MessageBus]:
    bus = unit_bus(dependencies, evaluate=True)
    await engine.start(publish=bus.publish)
    yield bus
    await engine.close()


@pytest.fixture
async def bus(alert_bus: MessageBus) -> MessageBus:
    await send(alert_bus, ("web-1", 10.0), ("web-2", 10.0))  # the metric exists
    return alert_bus
