"""EventBus implements the domain's event ports: mypy checks the types, this test the use."""

from __future__ import annotations

import asyncio

from domain.ports import EventPublisher, EventSubscriber
from infra.bus import EventBus
from tests.bus.conftest import channel_name, eventually


async def test_the_bus_serves_through_the_domain_ports() -> None:
    async with EventBus("memory://") as bus:
        publisher: EventPublisher = bus
        subscriber: EventSubscriber = bus
        name = channel_name()

        messages = subscriber.subscribe(name)
        reading = asyncio.ensure_future(anext(messages))
        await eventually(lambda: bus.channels == {name: 1})
        await publisher.publish(name, {"via": "ports"})
        assert await asyncio.wait_for(reading, 2) == {"via": "ports"}

        # The port's caller stops by cancelling its read: that unsubscribes.
        reading = asyncio.ensure_future(anext(messages))
        await asyncio.sleep(0.01)
        reading.cancel()
        await asyncio.gather(reading, return_exceptions=True)
        assert bus.channels == {}
