"""One local subscriber: a bounded drop-oldest buffer, read as an async iterator."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncGenerator, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

from infra.bus.codec import decode
from infra.bus.errors import BusGap, BusUnavailable

if TYPE_CHECKING:
    from infra.bus.fanout import Fanout

__all__ = ["Inbox", "Subscription", "Totals"]


class Totals:
    """Counters of one bus, summed over all its subscriptions, past and present."""

    __slots__ = ("dropped", "gaps", "invalid", "rejected")

    def __init__(self) -> None:
        self.dropped = 0
        self.gaps = 0
        self.invalid = 0
        self.rejected = 0  # unsigned or badly signed, dropped before any subscriber


class Inbox:
    """The buffer of one subscription: the fan-out puts without waiting, the consumer gets.

    When the buffer holds `maxsize` messages, `put()` drops the oldest one and counts it,
    so a slow consumer costs bounded memory and never holds up the fan-out. Messages are
    kept as JSON text and decoded when taken: a dropped message is never decoded, and each
    consumer gets its own dict.

    With `ends_on_gap`, a backend outage closes the inbox with `BusGap` (see `Fanout.mark_gap`)
    instead of only counting it.
    """

    __slots__ = (
        "_buffer",
        "_closed",
        "_error",
        "_totals",
        "_waiter",
        "channel",
        "dropped",
        "ends_on_gap",
        "gaps",
        "invalid",
    )

    def __init__(self, channel: str, maxsize: int, totals: Totals) -> None:
        self.channel = channel
        self.dropped = 0
        self.gaps = 0
        self.invalid = 0
        self.ends_on_gap = False
        self._buffer: deque[str] = deque(maxlen=maxsize)
        self._totals = totals
        self._waiter: asyncio.Future[None] | None = None
        self._closed = False
        self._error: BusUnavailable | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        return len(self._buffer)

    def put(self, raw: str) -> None:
        if self._closed:
            return
        if len(self._buffer) == self._buffer.maxlen:
            self.dropped += 1
            self._totals.dropped += 1
        self._buffer.append(raw)  # a full deque discards its oldest item
        self._wake()

    def close(self, error: str | BusUnavailable | None = None, *, discard: bool = False) -> None:
        """End the stream after the buffered messages (all of them dropped if `discard`);
        with an `error`, reading past them raises it (a text becomes `BusUnavailable`)."""
        if discard:
            self._buffer.clear()
        if not self._closed:
            self._closed = True
            self._error = BusUnavailable(error) if isinstance(error, str) else error
            self._wake()

    def gap(self) -> None:
        """Count a backend outage; end the stream with `BusGap` if the consumer asked so."""
        self.gaps += 1
        if self.ends_on_gap:
            self.close(BusGap("live events were interrupted: the event bus lost its backend"))

    async def get(self) -> dict[str, Any] | None:
        """Wait for the next message; None once the inbox is closed and empty."""
        while True:
            while self._buffer:
                message = decode(self._buffer.popleft())
                if message is not None:
                    return message
                self.invalid += 1
                self._totals.invalid += 1
            if self._closed:
                if self._error is not None:
                    raise self._error
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class Subscription:
    """The messages of one channel for one consumer, decoded, in the order they arrived.

    Use it in one of two ways; both unsubscribe when they end:

        async with bus.subscribe("alerts") as alerts:  # returns once the backend confirmed
            async for message in alerts:
                ...

        async for message in bus.subscribe("alerts"):  # the EventSubscriber port's form
            ...

    Inside `async with`, the subscription lives until the block exits, and a cancelled read
    (a timeout, say) leaves it intact. Without it, the subscription is made at the first
    read and ends with the iteration: when the stream ends, when the read is cancelled,
    on `aclose()`, or when the dropped iterator is finalised by the event loop.

    The iteration ends when the bus closes and raises `BusUnavailable` if the local fan-out
    of the channel fails. `dropped` counts the messages this subscriber lost to its full
    buffer, `gaps` the backend outages it lived through (messages published during an
    outage are lost), and `invalid` the messages skipped because they were not JSON objects.

    A backend outage ends the two forms differently. Inside `async with`, the subscription
    lives on and counts the outage in `gaps`, which its holder can read. Iterated without
    it (the `EventSubscriber` port's form, which has no `gaps` to read), the iteration
    raises `BusGap` once the messages received before the outage are read: a consumer of
    the port is never silently left with a stream that lost messages (ADR 0007).
    """

    __slots__ = ("_fanout", "_inbox", "_on_attached", "_reading", "_state", "_stream", "channel")

    def __init__(
        self, fanout: Fanout, inbox: Inbox, on_attached: Callable[[], object] | None = None
    ) -> None:
        self.channel = inbox.channel
        self._fanout = fanout
        self._inbox = inbox
        self._on_attached = on_attached
        self._stream: AsyncGenerator[dict[str, Any], None] | None = None
        self._reading = False
        self._state: Literal["new", "managed", "streaming", "closed"] = "new"

    @property
    def dropped(self) -> int:
        return self._inbox.dropped

    @property
    def gaps(self) -> int:
        return self._inbox.gaps

    @property
    def invalid(self) -> int:
        return self._inbox.invalid

    @property
    def pending(self) -> int:
        """Messages buffered and not yet read."""
        return len(self._inbox)

    @property
    def closed(self) -> bool:
        return self._state == "closed" or self._inbox.closed

    async def __aenter__(self) -> Self:
        if self._state != "new":
            raise RuntimeError("a subscription is entered once, before it is iterated")
        self._state = "managed"
        try:
            await self._fanout.attach(self._inbox)
        except BaseException:
            self._state = "closed"
            raise
        if self._on_attached is not None:
            self._on_attached()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> dict[str, Any]:
        if self._state == "managed":
            message = await self._inbox.get()
            if message is None:
                raise StopAsyncIteration
            return message
        if self._state == "new":
            self._state = "streaming"
            self._stream = _stream(self._fanout, self._inbox, self._on_attached)
        if self._stream is None:
            raise StopAsyncIteration
        self._reading = True
        try:
            return await anext(self._stream)
        finally:
            self._reading = False

    async def aclose(self) -> None:
        """Unsubscribe now; buffered messages are discarded. Safe to call more than once.

        A read waiting in another task ends: `StopAsyncIteration`.
        """
        self._state = "closed"
        self._fanout.detach(self._inbox)
        self._inbox.close(discard=True)  # wakes a waiting read, which then ends
        if self._stream is not None and not self._reading:
            await self._stream.aclose()

    def __repr__(self) -> str:
        return f"<Subscription {self.channel!r} {self._state} dropped={self.dropped}>"


async def _stream(
    fanout: Fanout, inbox: Inbox, on_attached: Callable[[], object] | None
) -> AsyncGenerator[dict[str, Any], None]:
    # A plain function, not a method: the generator must not keep the Subscription alive,
    # so that dropping the Subscription finalises the generator, which unsubscribes.
    inbox.ends_on_gap = True
    await fanout.attach(inbox)
    if on_attached is not None:
        on_attached()
    try:
        while (message := await inbox.get()) is not None:
            yield message
    finally:
        fanout.detach(inbox)
        inbox.close(discard=True)
