"""Redis outages: clear errors while down, recovery after a restart, gaps counted."""

from __future__ import annotations

import asyncio
import signal

import pytest

from infra.bus import BusUnavailable, EventBus
from tests.bus.conftest import RedisServer, channel_name, eventually, free_port, receive

pytestmark = pytest.mark.redis


async def test_an_unreachable_redis_raises_clear_errors_without_the_url() -> None:
    port = free_port()  # nothing listens there
    url = f"redis://:s3cret@127.0.0.1:{port}/0"
    async with EventBus(url, timeout=0.5) as bus:  # starts, unhealthy, and keeps retrying
        assert not bus.healthy
        attempts = {
            "publish": bus.publish("alerts", {"n": 1}),
            "ping": bus.ping(),
            "subscribe": bus.subscribe("alerts").__aenter__(),
        }
        for name, attempt in attempts.items():
            with pytest.raises(BusUnavailable) as error:
                await attempt
            text = str(error.value)
            assert "unavailable" in text, name
            for secret in ("s3cret", str(port), "127.0.0.1", "redis://"):
                assert secret not in text, (name, text)
        assert bus.channels == {}


async def test_the_listener_survives_a_redis_restart(redis_server: RedisServer) -> None:
    await redis_server.start()
    gaps: list[frozenset[str]] = []
    name, other = channel_name(), channel_name()
    async with (
        EventBus(redis_server.url, max_backoff=0.2, on_gap=gaps.append) as bus,
        EventBus(redis_server.url, max_backoff=0.2) as publisher,
    ):
        async with bus.subscribe(name) as subscription, bus.subscribe(other) as bystander:
            await publisher.publish(name, {"n": 1})
            assert await receive(subscription) == {"n": 1}
            assert bus.healthy
            assert (await bus.ping()).startswith("redis ")

            redis_server.kill()
            await eventually(lambda: not bus.healthy, within=5)
            with pytest.raises(BusUnavailable):
                await bus.ping()
            with pytest.raises(BusUnavailable):
                await publisher.publish(name, {"n": 2})  # lost: Redis is down
            assert (bus.gaps, subscription.gaps) == (1, 1)

            await redis_server.start()
            await eventually(lambda: bus.healthy, within=5)
            assert (await bus.ping()).startswith("redis ")
            await publisher.publish(name, {"n": 3})
            assert await receive(subscription) == {"n": 3}
            await publisher.publish(other, {"other": 3})
            assert await receive(bystander) == {"other": 3}

            assert subscription.gaps == bystander.gaps == bus.gaps == 1
            assert gaps == [frozenset({name, other})]

        # After recovery, new subscriptions and releases work as before.
        async with bus.subscribe(name) as again:
            await publisher.publish(name, {"n": 4})
            assert await receive(again) == {"n": 4}
            assert again.gaps == 0
        assert bus.channels == {}


async def test_a_bus_started_before_redis_connects_when_it_comes(
    redis_server: RedisServer,
) -> None:
    async with EventBus(redis_server.url, timeout=0.5, max_backoff=0.2) as bus:
        assert not bus.healthy
        await redis_server.start()
        await eventually(lambda: bus.healthy, within=5)
        name = channel_name()
        async with bus.subscribe(name) as subscription:
            await bus.publish(name, {"late": True})
            assert await receive(subscription) == {"late": True}
        assert bus.gaps == 0  # nothing was subscribed, nothing was lost


async def test_a_subscriber_waiting_when_redis_dies_sees_the_bus_recover(
    redis_server: RedisServer,
) -> None:
    await redis_server.start()
    name = channel_name()
    async with (
        EventBus(redis_server.url, max_backoff=0.2) as bus,
        bus.subscribe(name) as subscription,
    ):
        waiting = asyncio.ensure_future(anext(subscription))
        await asyncio.sleep(0.05)
        redis_server.kill()
        await eventually(lambda: not bus.healthy)
        assert not waiting.done()  # not ended, not failed: just nothing to read
        await redis_server.start()
        await eventually(lambda: bus.healthy)
        await bus.publish(name, {"back": True})
        assert await asyncio.wait_for(waiting, 2) == {"back": True}


async def test_a_frozen_redis_is_detected_by_ping(redis_server: RedisServer) -> None:
    """SIGSTOP keeps the TCP connection open and silent: only the PING check can tell."""
    await redis_server.start()
    assert redis_server.process is not None
    name = channel_name()
    async with (
        EventBus(redis_server.url, timeout=0.5, max_backoff=0.2, ping_interval=0.2) as bus,
        bus.subscribe(name) as subscription,
    ):
        redis_server.process.send_signal(signal.SIGSTOP)
        try:
            await eventually(lambda: not bus.healthy, within=3)
            with pytest.raises(BusUnavailable):
                await bus.publish(name, {"n": 1})  # after `timeout`
        finally:
            redis_server.process.send_signal(signal.SIGCONT)
        await eventually(lambda: bus.healthy, within=5)
        await bus.publish(name, {"n": 2})
        assert await receive(subscription) == {"n": 2}
        assert subscription.gaps == 1
