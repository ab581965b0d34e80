"""Delivery on the memory and Redis backends: fan-out, channels, JSON, subscribe-then-publish."""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
from typing import Any

import pytest
from redis.asyncio import Redis

from infra.bus import EventBus, InvalidMessage
from tests.bus.conftest import REDIS_URL, assert_nothing, channel_name, eventually, receive


async def test_a_message_reaches_every_subscriber_of_its_channel_only(bus: EventBus) -> None:
    alerts, other = channel_name(), channel_name()
    async with (
        bus.subscribe(alerts) as first,
        bus.subscribe(alerts) as second,
        bus.subscribe(other) as elsewhere,
    ):
        await bus.publish(alerts, {"alert": 1})

        assert await receive(first) == {"alert": 1}
        assert await receive(second) == {"alert": 1}
        await assert_nothing(bus, elsewhere)
        assert bus.channels == {alerts: 2, other: 1}


async def test_messages_arrive_in_publication_order(bus: EventBus) -> None:
    name = channel_name()
    async with bus.subscribe(name) as subscription:
        for n in range(50):
            await bus.publish(name, {"n": n})
        assert [(await receive(subscription))["n"] for _ in range(50)] == list(range(50))


async def test_messages_make_a_json_round_trip(bus: EventBus) -> None:
    class Level(enum.StrEnum):
        CRITICAL = "critical"

    name = channel_name()
    sent: dict[str, Any] = {
        "text": "héllo ✓",
        "int": 2**53,
        "float": 0.1,
        "list": [1, None, True, {"nested": []}],
        "level": Level.CRITICAL,
        "at": dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC),
        "tuple": (1, 2),
    }
    async with bus.subscribe(name) as first, bus.subscribe(name) as second:
        await bus.publish(name, sent)
        got, other = await receive(first), await receive(second)

    # What JSON carries, on every backend: enums, datetimes and tuples arrive as JSON.
    assert got == {**sent, "level": "critical", "at": "2026-01-02T03:04:05+00:00", "tuple": [1, 2]}
    assert type(got["level"]) is str
    assert got == other
    assert got is not other and got["list"] is not other["list"]  # each gets its own dict


@pytest.mark.parametrize(
    "message",
    [
        pytest.param({"tags": {"a", "b"}}, id="set"),
        pytest.param({1: "not a string key"}, id="int-key"),
        pytest.param({"object": object()}, id="object"),
        pytest.param({"big": 2**64}, id="int-over-64-bits"),
        pytest.param(["not", "a", "dict"], id="list"),
    ],
)
async def test_what_json_cannot_carry_fails_at_publish(bus: EventBus, message: Any) -> None:
    name = channel_name()
    async with bus.subscribe(name) as subscription:
        with pytest.raises(InvalidMessage) as error:
            await bus.publish(name, message)
        assert isinstance(error.value, TypeError)
        await assert_nothing(bus, subscription)


async def test_subscribe_then_publish_at_once_is_delivered(url: str) -> None:
    """subscribe() returns only once the backend serves the channel: no message is lost
    to a subscription that is not yet registered (what broke broadcaster with redis-py 8)."""
    async with EventBus(url) as subscriber_bus, EventBus(url) as other_bus:
        # memory:// buses are separate worlds; Redis ones share the server.
        publisher = other_bus if subscriber_bus.backend == "redis" else subscriber_bus
        for n in range(30):
            name = channel_name()
            async with subscriber_bus.subscribe(name) as subscription:
                await publisher.publish(name, {"n": n})
                assert await receive(subscription) == {"n": n}


async def test_delivery_resumes_after_every_subscriber_left(bus: EventBus) -> None:
    name = channel_name()
    for n in range(3):
        async with bus.subscribe(name) as subscription:
            await bus.publish(name, {"round": n})
            assert await receive(subscription) == {"round": n}
        assert bus.channels == {}


async def test_bare_iteration_delivers(bus: EventBus) -> None:
    name = channel_name()
    received: list[dict[str, Any]] = []

    async def consume() -> None:
        async for message in bus.subscribe(name):
            received.append(message)
            if len(received) == 2:
                break

    task = asyncio.create_task(consume())
    await eventually(lambda: bus.channels.get(name) == 1)
    await bus.publish(name, {"n": 1})
    await bus.publish(name, {"n": 2})
    await asyncio.wait_for(task, 2)
    assert received == [{"n": 1}, {"n": 2}]


@pytest.mark.redis
async def test_two_buses_on_one_redis_reach_each_other() -> None:
    name = channel_name()
    async with (
        EventBus(REDIS_URL) as here,
        EventBus(REDIS_URL) as there,
        here.subscribe(name) as mine,
        there.subscribe(name) as theirs,
    ):
        await here.publish(name, {"from": "here"})
        await there.publish(name, {"from": "there"})

        expected = [{"from": "here"}, {"from": "there"}]
        assert [await receive(mine), await receive(mine)] == expected
        assert [await receive(theirs), await receive(theirs)] == expected


@pytest.mark.redis
async def test_foreign_payloads_are_skipped_and_counted() -> None:
    name = channel_name()
    async with (
        EventBus(REDIS_URL) as bus,
        Redis.from_url(REDIS_URL) as raw,
        bus.subscribe(name) as subscription,
    ):
        for payload in (b"not json", b"[1, 2]", b"\xff\xfe", b'{"ok": true}'):
            await raw.publish(name, payload)
        assert await receive(subscription) == {"ok": True}
        assert subscription.invalid == 3
        assert bus.invalid == 3


async def test_a_memory_channel_without_listeners_takes_nothing() -> None:
    """On the memory bus a message nobody in the process listens to is dropped before it
    is encoded (a subscriber that comes later never sees it, on any backend); the next
    subscriber gets what is published once it is in."""
    async with EventBus("memory://") as bus:
        name = channel_name()
        await bus.publish(name, {"unheard": object()})  # not encoded, so not refused
        async with bus.subscribe(name) as subscription:
            await bus.publish(name, {"heard": 1})
            assert await receive(subscription) == {"heard": 1}
            await assert_nothing(bus, subscription)
        await bus.publish(name, {"unheard": 2})
