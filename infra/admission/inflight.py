"""In-flight ingest, bounded: request bodies being read, decoded or waiting for their
commit (bytes and requests), and points waiting for their commit.

Past a bound the request is answered at once (503 and `Retry-After`) instead of being
buffered: memory stays bounded whatever the load, and senders retry later.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from typing import Final

from domain.errors import Unavailable

__all__ = ["RETRY_AFTER_SECONDS", "InflightBudget"]

RETRY_AFTER_SECONDS: Final = 1


class InflightBudget:
    """Counters for one process (the event loop is its only user: no lock)."""

    def __init__(self, *, max_bytes: int, max_requests: int, max_points: int) -> None:
        self.max_bytes = max_bytes
        self.max_requests = max_requests
        self.max_points = max_points
        self.bytes = 0
        self.requests = 0
        self.points = 0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._arrived: asyncio.Future[None] | None = None
        self._listeners: list[Callable[[bool], None]] = []

    def enter(self, declared_bytes: int) -> Unavailable | None:
        """One more request of `declared_bytes` (0 if unknown yet); the refusal, or None.
        A lone request always enters, so that no body under the size limit waits forever."""
        if self.requests and self.requests >= self.max_requests:
            return self._refusal(f"{self.max_requests} ingest requests are in flight")
        if self.requests and self.bytes + declared_bytes > self.max_bytes:
            return self._refusal(f"more than {self.max_bytes} bytes of ingest are in flight")
        self.requests += 1
        self.bytes += declared_bytes
        self._quiet.clear()
        if self._arrived is not None and not self._arrived.done():
            self._arrived.set_result(None)
        if self.requests == 1:
            for listener in self._listeners:
                listener(True)
        return None

    def grow(self, more_bytes: int) -> Unavailable | None:
        """A body without Content-Length grew by `more_bytes` (already inside `enter`)."""
        self.bytes += more_bytes
        if self.requests > 1 and self.bytes > self.max_bytes:
            return self._refusal(f"more than {self.max_bytes} bytes of ingest are in flight")
        return None

    def leave(self, counted_bytes: int) -> None:
        self.requests -= 1
        self.bytes -= counted_bytes
        if not self.requests:
            self._quiet.set()
            for listener in self._listeners:
                listener(False)

    async def quiet(self, most_seconds: float) -> None:
        """Return once no request is in flight, or after `most_seconds` (a job's reads
        wait for it: domain/analytics/reading.py)."""
        if self.requests:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._quiet.wait(), most_seconds)

    async def arrival(self) -> None:
        """Return when the next request enters (a job's read slice gives way to it)."""
        if self._arrived is None or self._arrived.done():
            self._arrived = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._arrived)  # one waiter giving up leaves the others waiting

    def watch(self, listener: Callable[[bool], None]) -> None:
        """`listener(True)` when a request enters with none in flight, `listener(False)`
        when the last one leaves (a job's worker processes pause meanwhile)."""
        self._listeners.append(listener)

    @contextlib.contextmanager
    def points_pending(self, count: int) -> Iterator[None]:
        """`count` points wait for their commit while inside; refused past the bound."""
        if self.points and self.points + count > self.max_points:
            raise self._refusal(f"more than {self.max_points} points are waiting to be stored")
        self.points += count
        try:
            yield
        finally:
            self.points -= count

    @staticmethod
    def _refusal(why: str) -> Unavailable:
        return Unavailable(
            f"overloaded: {why}; retry in {RETRY_AFTER_SECONDS} s",
            retryAfter=RETRY_AFTER_SECONDS,
        )
