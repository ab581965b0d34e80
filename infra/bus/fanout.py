"""Local fan-out: one broadcaster subscription per channel, shared by its local subscribers."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from broadcaster import Broadcast

from infra.bus.codec import Signer
from infra.bus.errors import BusError, BusUnavailable
from infra.bus.subscription import Inbox, Totals

__all__ = ["Fanout"]

_log = logging.getLogger(__name__)

_WARN_EVERY_SECONDS = 60.0  # a flood of forged messages logs one line a minute, and counts


class _Channel:
    __slots__ = ("error", "inboxes", "name", "ready", "task")

    def __init__(self, name: str) -> None:
        self.name = name
        self.inboxes: dict[Inbox, None] = {}  # insertion-ordered set
        self.ready = asyncio.Event()
        self.error: str | None = None
        self.task: asyncio.Task[None] | None = None


class Fanout:
    """Reference-counts the local subscribers of each channel.

    The first subscriber of a channel starts a pump task that holds one
    `Broadcast.subscribe(channel)` open and copies each event into every inbox of the
    channel without waiting; the last one to leave cancels the pump, which releases the
    broadcaster subscription. `confirm(channel)` is awaited once the pump has subscribed:
    it returns when the backend serves the channel. `gate()` raises when the bus cannot
    take new subscribers. With a `signer`, each event is checked once, before the inboxes:
    a forged one is counted in `totals.rejected` and reaches no one.
    """

    def __init__(
        self,
        broadcast: Broadcast,
        *,
        confirm: Callable[[str], Awaitable[None]],
        gate: Callable[[], None],
        signer: Signer | None = None,
    ) -> None:
        self.totals = Totals()
        self._signer = signer
        self._warned_at = -_WARN_EVERY_SECONDS
        self._broadcast = broadcast
        self._confirm = confirm
        self._gate = gate
        self._channels: dict[str, _Channel] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def counts(self) -> dict[str, int]:
        """Local subscribers per channel."""
        return {name: len(channel.inboxes) for name, channel in self._channels.items()}

    def channels(self) -> frozenset[str]:
        return frozenset(self._channels)

    def serves(self, channel: str) -> bool:
        """Whether `channel` has local subscribers (or one being attached)."""
        return channel in self._channels

    def inbox(self, channel: str, maxsize: int) -> Inbox:
        return Inbox(channel, maxsize, self.totals)

    async def attach(self, inbox: Inbox) -> None:
        """Add `inbox` to its channel; return once the backend serves the channel."""
        self._gate()
        channel = self._channels.get(inbox.channel)
        if channel is None:
            channel = self._channels[inbox.channel] = _Channel(inbox.channel)
            channel.task = asyncio.create_task(self._pump(channel), name=f"bus-pump {channel.name}")
            self._tasks.add(channel.task)
            channel.task.add_done_callback(self._tasks.discard)
        channel.inboxes[inbox] = None
        try:
            await channel.ready.wait()
        except BaseException:
            self.detach(inbox)
            raise
        if channel.error is not None:
            self.detach(inbox)
            inbox.close(discard=True)
            raise BusUnavailable(channel.error)

    def detach(self, inbox: Inbox) -> None:
        """Remove `inbox`; release the channel if it was the last. Never waits."""
        channel = self._channels.get(inbox.channel)
        if channel is None or inbox not in channel.inboxes:
            return
        del channel.inboxes[inbox]
        if not channel.inboxes:
            del self._channels[channel.name]
            if channel.task is not None:
                channel.task.cancel()

    def mark_gap(self) -> None:
        """Count a backend outage, for the bus and for every current subscriber; the
        subscribers that asked for it are ended with `BusGap` (`Inbox.gap`)."""
        self.totals.gaps += 1
        for channel in self._channels.values():
            for inbox in channel.inboxes:
                inbox.gap()

    async def close(self) -> None:
        """End every subscription and wait for the pumps to release their channels."""
        channels = list(self._channels.values())
        self._channels.clear()
        for channel in channels:
            channel.error = "event bus is closed"
            for inbox in channel.inboxes:
                inbox.close()
            if channel.task is not None:
                channel.task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _checked(self, channel: str, raw: str) -> str | None:
        if self._signer is None:
            return raw
        text = self._signer.verify(channel, raw)
        if text is None:
            self.totals.rejected += 1
            now = time.monotonic()
            if now - self._warned_at >= _WARN_EVERY_SECONDS:
                self._warned_at = now
                _log.warning(
                    "event bus dropped an unsigned or badly signed message on %r (%d so far): "
                    "someone publishes into the bus without VIGIL_BUS_SECRET",
                    channel,
                    self.totals.rejected,
                )
        return text

    async def _pump(self, channel: _Channel) -> None:
        try:
            async with self._broadcast.subscribe(channel.name) as events:
                await self._confirm(channel.name)
                channel.ready.set()
                while True:
                    event = await events.get()
                    text = self._checked(channel.name, event.message)
                    if text is None:
                        continue
                    for inbox in channel.inboxes:
                        inbox.put(text)
        except asyncio.CancelledError:
            raise
        except BusError as exc:
            channel.error = str(exc)
        except Exception:
            _log.exception("event bus fan-out of channel %r failed", channel.name)
            channel.error = "event bus fan-out failed"
        finally:
            channel.ready.set()
            if self._channels.get(channel.name) is channel:  # ended on its own: tell everyone
                del self._channels[channel.name]
                for inbox in channel.inboxes:
                    inbox.close(channel.error or "event bus subscription ended")
