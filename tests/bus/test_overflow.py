"""Bounded subscriber buffers: a slow subscriber drops its oldest messages, alone."""

from __future__ import annotations

import pytest

from infra.bus import EventBus
from tests.bus.conftest import assert_nothing, channel_name, receive


async def test_a_slow_subscriber_drops_oldest_while_a_fast_one_gets_everything(
    bus: EventBus,
) -> None:
    name = channel_name()
    async with (
        bus.subscribe(name, queue_size=3) as slow,
        bus.subscribe(name, queue_size=100) as fast,
    ):
        for n in range(20):
            await bus.publish(name, {"n": n})
        assert [(await receive(fast))["n"] for _ in range(20)] == list(range(20))

        # Everything has been fanned out: the slow one kept the 3 newest messages.
        assert slow.pending == 3
        assert [(await receive(slow))["n"] for _ in range(3)] == [17, 18, 19]
        await assert_nothing(bus, slow)
        assert (slow.dropped, fast.dropped, bus.dropped) == (17, 0, 17)


async def test_drop_counters_add_up_over_subscribers_and_time(bus: EventBus) -> None:
    name = channel_name()
    async with (
        bus.subscribe(name, queue_size=1) as first,
        bus.subscribe(name, queue_size=2) as two,
        bus.subscribe(name) as witness,
    ):
        for n in range(5):
            await bus.publish(name, {"n": n})
        for n in range(5):  # once the witness has them all, all are fanned out
            assert await receive(witness) == {"n": n}
        assert await receive(two) == {"n": 3}
        assert await receive(two) == {"n": 4}
        assert await receive(first) == {"n": 4}
        assert (first.dropped, two.dropped) == (4, 3)
    async with bus.subscribe(name, queue_size=1) as later, bus.subscribe(name) as witness:
        await bus.publish(name, {"n": 5})
        await bus.publish(name, {"n": 6})
        assert [await receive(witness), await receive(witness)] == [{"n": 5}, {"n": 6}]
        assert await receive(later) == {"n": 6}
    assert bus.dropped == 4 + 3 + 1  # the bus total outlives its subscriptions


async def test_the_bus_queue_size_is_the_default() -> None:
    async with EventBus("memory://", queue_size=2) as bus:
        name = channel_name()
        async with bus.subscribe(name) as subscription:
            for n in range(4):
                await bus.publish(name, {"n": n})
            assert await receive(subscription) == {"n": 2}
            assert subscription.dropped == 2


@pytest.mark.parametrize("size", [0, -1])
async def test_a_queue_holds_at_least_one_message(size: int) -> None:
    with pytest.raises(ValueError):
        EventBus("memory://", queue_size=size)
    async with EventBus("memory://") as bus:
        with pytest.raises(ValueError):
            bus.subscribe("x", queue_size=size)
