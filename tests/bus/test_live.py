"""LiveStreams: a client's event stream is counted once the bus serves it, so an event
published as soon as it is counted reaches it, also from another process over Redis."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from domain.dashboards.events import DashboardCreatedEvent
from domain.events import Event
from infra.bus import EventBus, EventStream, LiveStreams
from tests.bus.conftest import REDIS_URL, eventually


def created(project: str, n: int) -> DashboardCreatedEvent:
    return DashboardCreatedEvent(project, f"d{n}", "ops", 1, "alice", n)


@contextlib.asynccontextmanager
async def slow_link(url: str, delay: float) -> AsyncIterator[str]:
    """A TCP proxy to the Redis of `url` that holds each command for `delay` seconds, in
    order: a subscription reaches Redis late, as over a slow link."""
    target = urlsplit(url)
    writers: list[asyncio.StreamWriter] = []

    async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter, hold: float) -> None:
        with contextlib.suppress(OSError):
            while data := await source.read(65536):
                await asyncio.sleep(hold)
                sink.write(data)
                await sink.drain()
        sink.close()

    async def connected(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(target.hostname, target.port)
        writers.extend((writer, up_writer))
        await asyncio.gather(pipe(reader, up_writer, delay), pipe(up_reader, writer, 0))

    server = await asyncio.start_server(connected, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"redis://127.0.0.1:{port}{target.path}"
    finally:
        server.close()
        for writer in writers:
            writer.close()
        await server.wait_closed()


@pytest.mark.redis
async def test_a_counted_stream_gets_what_another_process_publishes_next() -> None:
    project = f"live-{uuid.uuid4().hex}"
    channel = DashboardCreatedEvent.channel_for(project)
    live = LiveStreams()
    async with (
        slow_link(REDIS_URL, 0.2) as slow_url,
        EventBus(slow_url) as here,
        EventBus(REDIS_URL) as there,
    ):
        for n in range(3):  # each time a new subscription of the channel on Redis
            stream = EventStream(here, live=live).subscribe(channel)
            reading: asyncio.Task[Event] = asyncio.ensure_future(anext(stream))
            # Looked at after every step of the loop: publish at the first moment it counts.
            await eventually(lambda: live.count(channel) == 1, step=0)
            await EventStream(there).publish(created(project, n))
            assert await asyncio.wait_for(reading, 5) == created(project, n)
            await stream.aclose()  # type: ignore[attr-defined]
            assert live.count(channel) == 0
            await eventually(lambda: channel not in here.channels)


async def test_streams_are_counted_per_channel_while_they_run() -> None:
    live = LiveStreams()
    a, b = DashboardCreatedEvent.channel_for("a"), DashboardCreatedEvent.channel_for("b")
    async with EventBus("memory://") as bus:
        events = EventStream(bus, live=live)
        streams = [events.subscribe(a), events.subscribe(a), events.subscribe(b)]
        assert live.count(a) == 0  # nothing is served before the first read
        reads = [asyncio.ensure_future(anext(s)) for s in streams]
        await eventually(lambda: (live.count(a), live.count(b)) == (2, 1))
        await events.publish(created("b", 1))
        assert await asyncio.wait_for(reads[2], 5) == created("b", 1)
        for read in reads[:2]:
            read.cancel()
        await asyncio.gather(*reads[:2], return_exceptions=True)
        assert (live.count(a), live.count(b)) == (0, 1)
        await streams[2].aclose()  # type: ignore[attr-defined]
        assert live.count(b) == 0
