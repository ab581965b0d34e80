"""Subscription lifetimes: the shared channel is released when its last subscriber leaves."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncGenerator
from typing import Any

import pytest
from redis.asyncio import Redis

from infra.bus import BusUnavailable, EventBus
from tests.bus.conftest import REDIS_URL, channel_name, eventually, receive


async def server_subscribers(channel: str) -> int:
    async with Redis.from_url(REDIS_URL) as raw:
        counts = await raw.pubsub_numsub(channel)
    return int(counts[0][1])


async def test_cancelling_subscribers_releases_the_channel_after_the_last(bus: EventBus) -> None:
    name = channel_name()
    entered = asyncio.Event()
    inside = 0

    async def consume() -> None:
        nonlocal inside
        async with bus.subscribe(name) as subscription:
            inside += 1
            if inside == 2:
                entered.set()
            async for _ in subscription:
                pass

    first, second = asyncio.create_task(consume()), asyncio.create_task(consume())
    await asyncio.wait_for(entered.wait(), 2)
    assert bus.channels == {name: 2}
    if bus.backend == "redis":
        assert await server_subscribers(name) == 1  # one server subscription, shared

    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    assert bus.channels == {name: 1}
    await bus.publish(name, {"still": "served"})

    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    assert bus.channels == {}
    if bus.backend == "redis":
        await eventually(lambda: _zero(name))


async def _zero(name: str) -> bool:
    return await server_subscribers(name) == 0


async def test_cancelling_a_bare_iteration_unsubscribes(bus: EventBus) -> None:
    name = channel_name()

    async def consume() -> None:
        async for _ in bus.subscribe(name):
            pass

    task = asyncio.create_task(consume())
    await eventually(lambda: bus.channels == {name: 1})
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert bus.channels == {}
    if bus.backend == "redis":
        await eventually(lambda: _zero(name))


async def test_cancelling_while_subscribing_leaves_nothing_behind(bus: EventBus) -> None:
    name = channel_name()
    for _ in range(5):
        task = asyncio.create_task(bus.subscribe(name).__aenter__())
        await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        assert bus.channels == {}
    async with bus.subscribe(name) as subscription:  # and the channel still works
        await bus.publish(name, {"ok": 1})
        assert await receive(subscription) == {"ok": 1}
    if bus.backend == "redis":
        await eventually(lambda: _zero(name))


@pytest.mark.parametrize("managed", [True, False], ids=["async-with", "bare"])
async def test_aclose_from_another_task_ends_a_waiting_read(bus: EventBus, managed: bool) -> None:
    name = channel_name()
    subscription = bus.subscribe(name)
    if managed:
        await subscription.__aenter__()
    received: list[dict[str, Any]] = []

    async def consume() -> None:
        async for message in subscription:
            received.append(message)

    task = asyncio.create_task(consume())
    await eventually(lambda: bus.channels == {name: 1})
    await bus.publish(name, {"n": 1})
    await eventually(lambda: len(received) == 1)

    await subscription.aclose()
    await asyncio.wait_for(task, 2)  # the iteration ended cleanly
    assert received == [{"n": 1}]
    assert bus.channels == {}
    if bus.backend == "redis":
        await eventually(lambda: _zero(name))


async def test_a_timed_out_read_keeps_a_managed_subscription(bus: EventBus) -> None:
    name = channel_name()
    async with bus.subscribe(name) as subscription:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(anext(subscription), 0.05)
        await bus.publish(name, {"after": "timeout"})
        assert await receive(subscription) == {"after": "timeout"}


async def test_an_abandoned_resolver_generator_unsubscribes(bus: EventBus) -> None:
    """What Strawberry does: iterate the port in an async generator, then drop it."""
    name = channel_name()

    async def resolver() -> AsyncGenerator[dict[str, Any], None]:
        async for message in bus.subscribe(name):
            yield message

    stream = resolver()
    first = asyncio.ensure_future(anext(stream))
    await eventually(lambda: bus.channels == {name: 1})
    await bus.publish(name, {"n": 1})
    assert await asyncio.wait_for(first, 2) == {"n": 1}

    await stream.aclose()  # the inner subscription is now unreferenced, not closed
    del stream, first
    gc.collect()
    await eventually(lambda: bus.channels == {})


async def test_closing_the_bus_ends_subscriptions() -> None:
    bus = EventBus("memory://")
    await bus.connect()
    name = channel_name()
    subscription = bus.subscribe(name)
    await subscription.__aenter__()
    await bus.publish(name, {"last": True})
    await eventually(lambda: subscription.pending == 1)  # fanned out to the subscriber
    await bus.disconnect()

    assert [message async for message in subscription] == [{"last": True}]
    assert not bus.healthy
    for attempt in (bus.publish(name, {}), bus.ping(), bus.subscribe(name).__aenter__()):
        with pytest.raises(BusUnavailable):
            await attempt
    await bus.disconnect()  # twice is fine


async def test_a_subscription_is_entered_once() -> None:
    async with EventBus("memory://") as bus:
        subscription = bus.subscribe("x")
        async with subscription:
            with pytest.raises(RuntimeError):
                await subscription.__aenter__()
        assert subscription.closed
        with pytest.raises(StopAsyncIteration):
            await anext(subscription)


@pytest.mark.parametrize("name", ["", 3])
async def test_a_channel_is_a_non_empty_string(name: Any) -> None:
    async with EventBus("memory://") as bus:
        with pytest.raises(ValueError):
            bus.subscribe(name)
        with pytest.raises(ValueError):
            await bus.publish(name, {})


def test_only_memory_and_redis_urls() -> None:
    with pytest.raises(ValueError, match="unsupported") as error:
        EventBus("kafka://user:secret@host:9092")
    assert "secret" not in str(error.value)
