"""Following a bus channel for as long as the process runs, resubscribed after failures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from infra.bus import EventBus

__all__ = ["RETRY_SECONDS", "follow", "wait_all"]

logger = logging.getLogger("vigil.alerting")

RETRY_SECONDS = 1.0


async def follow(
    bus: EventBus,
    channel: str,
    handle: Callable[[dict[str, Any]], Awaitable[None]],
    *,
    ready: asyncio.Event,
    on_gap: Callable[[], Awaitable[None]] | None = None,
    queue_size: int | None = None,
) -> None:
    """Hand every message of `channel` to `handle` until cancelled; `ready` is set once
    subscribed. After a failure (the bus is down) it subscribes again every
    `RETRY_SECONDS`. `on_gap` is awaited when messages may have been missed: after
    subscribing again, and after a bus outage or a full buffer while subscribed."""
    missed = False
    while True:
        try:
            async with bus.subscribe(channel, queue_size=queue_size) as sub:
                ready.set()
                if missed and on_gap is not None:
                    await on_gap()
                seen = (sub.gaps, sub.dropped)
                async for message in sub:
                    if on_gap is not None and (sub.gaps, sub.dropped) != seen:
                        seen = (sub.gaps, sub.dropped)
                        await on_gap()
                    await handle(message)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.warning("bus channel %r interrupted; subscribing again", channel)
        missed = True
        await asyncio.sleep(RETRY_SECONDS)


async def wait_all(events: Iterable[asyncio.Event], seconds: float) -> None:
    """Wait until every event is set, or `seconds` (the bus is down: the
    followers keep trying)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            for event in events:
                await event.wait()
