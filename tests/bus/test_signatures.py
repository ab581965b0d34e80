"""Signed bus messages (issue 12, item 18): buses with the same secret reach each other;
a message without it, whoever published it into Redis, reaches no subscriber and is
counted."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from infra.bus import EventBus
from tests.bus.conftest import REDIS_URL, channel_name, receive

pytestmark = pytest.mark.redis

SECRET = b"s" * 32


async def test_only_messages_signed_with_the_shared_secret_arrive() -> None:
    name = channel_name()
    async with (
        EventBus(REDIS_URL, secret=SECRET) as here,
        EventBus(REDIS_URL, secret=SECRET) as there,
        EventBus(REDIS_URL, secret=b"o" * 32) as other_key,
        EventBus(REDIS_URL) as unsigned,
        Redis.from_url(REDIS_URL) as raw,
        here.subscribe(name) as subscription,
    ):
        await other_key.publish(name, {"from": "another key"})
        await unsigned.publish(name, {"from": "no key"})
        await raw.publish(name, b'{"from": "redis-cli"}')
        await raw.publish(name, b"0" * 64 + b'{"from": "a made-up signature"}')
        await there.publish(name, {"from": "there"})
        assert await receive(subscription) == {"from": "there"}
        assert here.rejected == 4 and here.invalid == 0


async def test_a_signature_holds_for_its_channel_only() -> None:
    name, other = channel_name(), channel_name()
    async with (
        EventBus(REDIS_URL, secret=SECRET) as bus,
        Redis.from_url(REDIS_URL) as raw,
        bus.subscribe(name) as subscription,
        raw.pubsub() as spy,
    ):
        await spy.subscribe(other)
        await spy.get_message(timeout=5)  # the confirmation
        await bus.publish(other, {"for": "the other channel"})
        message = await spy.get_message(ignore_subscribe_messages=True, timeout=5)
        assert message is not None
        await raw.publish(name, message["data"])  # replayed onto this channel
        await bus.publish(name, {"for": "this channel"})
        assert await receive(subscription) == {"for": "this channel"}
        assert bus.rejected == 1


async def test_the_memory_bus_delivers_with_a_secret() -> None:
    """One process: nothing to authenticate, so nothing is signed (no cost)."""
    name = channel_name()
    async with EventBus("memory://", secret=SECRET) as bus, bus.subscribe(name) as subscription:
        await bus.publish(name, {"n": 1})
        assert await receive(subscription) == {"n": 1}
        assert bus.rejected == 0
