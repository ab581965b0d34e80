"""A StatsD UDP listener: packets go to an aggregator, and every `interval` seconds the
interval's points go to an async callback (the ingest path)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

from infra.collectors.decoded import DecodedPoints
from infra.collectors.statsd.aggregate import StatsdAggregator

__all__ = ["FlushCallback", "StatsdServer"]

log = logging.getLogger(__name__)

FlushCallback = Callable[[DecodedPoints], Awaitable[None]]


class StatsdServer(asyncio.DatagramProtocol):
    def __init__(
        self,
        on_flush: FlushCallback,
        *,
        interval: float = 10.0,
        aggregator: StatsdAggregator | None = None,
        clock_us: Callable[[], int] = lambda: time.time_ns() // 1000,
    ) -> None:
        self.aggregator = aggregator or StatsdAggregator()
        self._on_flush = on_flush
        self._interval = interval
        self._clock_us = clock_us
        self._transport: asyncio.DatagramTransport | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed: asyncio.Event | None = None
        self.packets = 0

    # -- asyncio.DatagramProtocol --------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.DatagramTransport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        if self._closed is not None:
            self._closed.set()

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        self.packets += 1
        self.aggregator.feed(data)

    # -- lifetime ---------------------------------------------------------------------------

    @property
    def address(self) -> tuple[str, int]:
        assert self._transport is not None, "start() first"
        host, port = self._transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    async def start(self, host: str = "127.0.0.1", port: int = 8125) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(host, port))
        self._transport = transport  # connection_made runs on a later loop turn
        self._closed = asyncio.Event()
        self._task = asyncio.create_task(self._flush_loop(), name="statsd-flush")

    async def stop(self) -> None:
        """Stops listening, then hands over what the last interval gathered."""
        if self._transport is not None:
            self._transport.close()
            self._transport = None
            if self._closed is not None:
                await self._closed.wait()  # the socket is released on the next loop turn
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def flush(self) -> None:
        points = self.aggregator.flush(self._clock_us())
        if len(points):
            await self._on_flush(points)

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except Exception:  # one failed flush must not stop the listener
                log.exception("StatsD flush failed")

    @classmethod
    @contextlib.asynccontextmanager
    async def serving(
        cls, on_flush: FlushCallback, *, host: str = "127.0.0.1", port: int = 8125, **options: float
    ) -> AsyncIterator[StatsdServer]:
        server = cls(on_flush, interval=options.get("interval", 10.0))
        await server.start(host, port)
        try:
            yield server
        finally:
            await server.stop()
