"""SeriesLimiter through the ingest handler: what counts, what is undone, what is named."""

from __future__ import annotations

from typing import Any

import pytest

from domain.messagebus import MessageBus
from domain.metrics.series_limits import (
    SeriesActivity,
    SeriesLimiter,
    SeriesLimitExceeded,
    SeriesLimits,
)
from tests.unit.conftest import unit_bus
from tests.unit.fakes import NOW_US, FakeClock, FakeMetricStore, cpu, ingest


def limited(dependencies: dict[str, Any], clock: FakeClock, **limits: Any) -> MessageBus:
    dependencies["series_limiter"] = SeriesLimiter(SeriesLimits(**limits), clock)
    return unit_bus(dependencies, evaluate=False)


async def refused(bus: MessageBus, *points: dict[str, Any], **kw: Any) -> SeriesLimitExceeded:
    with pytest.raises(SeriesLimitExceeded) as caught:
        await ingest(bus, "acme", *points, **kw)
    return caught.value


async def test_a_batch_the_store_fails_does_not_use_up_the_limit(
    dependencies: dict[str, Any], clock: FakeClock, store: FakeMetricStore
) -> None:
    bus = limited(dependencies, clock, max_active=2, max_new_per_minute=2)
    store.fail_next_append = OSError("disk full")
    with pytest.raises(OSError):
        await ingest(bus, "acme", cpu(1, "a"), cpu(1, "b"))
    await ingest(bus, "acme", cpu(1, "a"), cpu(1, "b"))  # both limits still have room
    assert (await refused(bus, cpu(1, "c"))).details["current"] == 2


async def test_a_replayed_batch_does_not_count_its_series_again(
    dependencies: dict[str, Any], clock: FakeClock
) -> None:
    bus = limited(dependencies, clock, max_active=0, max_new_per_minute=2, window_seconds=30)
    await ingest(bus, "acme", cpu(1, "a"), idempotency_key="k")
    clock.advance(31)  # "a" went idle: a replay would make it active again
    await ingest(bus, "acme", cpu(1, "a"), idempotency_key="k")  # replayed: nothing stored
    await ingest(bus, "acme", cpu(1, "b"))
    assert (await refused(bus, cpu(1, "c"))).details["current"] == 2  # a (first time), b


async def test_the_named_point_is_the_first_of_the_first_series_that_does_not_fit(
    dependencies: dict[str, Any], clock: FakeClock
) -> None:
    bus = limited(dependencies, clock, max_active=2)
    await ingest(bus, "acme", cpu(1, "a"))
    error = await refused(bus, cpu(1, "a"), cpu(1, "b"), cpu(2, "b", ago_ms=1), cpu(1, "c"))
    assert error.details == {"index": 3, "limit": "activeSeries", "max": 2, "current": 1}
    # series entries are named by their index in the list, as BatchRejected names them
    stamps = [NOW_US // 1000 - 2, NOW_US // 1000 - 1]
    entries = [
        {"name": "cpu.load", "tags": {"host": h}, "timestamps": stamps, "values": [1, 2]}
        for h in ("a", "x", "y", "z")
    ]
    assert (await refused(bus, *entries)).details["index"] == 2


async def test_series_count_while_active_and_the_minute_slides(
    dependencies: dict[str, Any], clock: FakeClock
) -> None:
    bus = limited(dependencies, clock, max_active=3, max_new_per_minute=2, window_seconds=600)
    await ingest(bus, "acme", cpu(1, "a"), cpu(1, "b"))
    assert (await refused(bus, cpu(1, "c"))).details["limit"] == "newSeriesPerMinute"
    clock.advance(30)
    assert (await refused(bus, cpu(1, "c"))).details["retryAfterSeconds"] == 30
    clock.advance(31)
    await ingest(bus, "acme", cpu(1, "c"))  # the minute has passed
    assert (await refused(bus, cpu(1, "d"))).details["limit"] == "activeSeries"
    clock.advance(300)
    await ingest(bus, "acme", cpu(1, "a"))  # a stays active; b and c go idle
    clock.advance(301)
    await ingest(bus, "acme", cpu(1, "d"), cpu(1, "e"))
    assert (await refused(bus, cpu(1, "b"))).details == {
        "index": 0,
        "limit": "activeSeries",
        "max": 3,
        "current": 3,
    }
    await ingest(bus, "other", cpu(1, "b"), cpu(1, "c"))  # limits are per project


def test_seeding_takes_the_window_and_the_minute_from_the_store(clock: FakeClock) -> None:
    limiter = SeriesLimiter(SeriesLimits(window_seconds=600), clock)
    minute = 60_000_000
    limiter.seed(
        SeriesActivity(
            active={"acme": {1: NOW_US - 1, 2: NOW_US + 5_000_000, 3: NOW_US - 601_000_000}},
            created={"acme": [NOW_US - 1, NOW_US - minute - 1]},
        )
    )
    assert limiter.counts() == {"acme": (2, 1)}
    clock.advance(600)  # series 1 idle for the whole window; 2 had a future stamp: now
    assert limiter.counts() == {"acme": (1, 0)}
