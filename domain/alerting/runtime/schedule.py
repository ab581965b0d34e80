"""The engine's periodic work: ticks at a fixed rate, and polls for due forecasts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

__all__ = ["at_fixed_rate"]

logger = logging.getLogger("vigil.alerting")


async def at_fixed_rate(seconds: float, work: Callable[[], Awaitable[None]], what: str) -> None:
    """Run `work` every `seconds` from now on; a slow run does not push the next ones
    later, and a failed one is logged (as `what` failed) without ending the schedule."""
    loop = asyncio.get_running_loop()
    due = loop.time()
    while True:
        due = max(due + seconds, loop.time())
        await asyncio.sleep(due - loop.time())
        try:
            await work()
        except Exception:
            logger.exception("%s failed", what)
