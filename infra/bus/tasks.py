"""Task helpers: stop a task within a grace period, re-raise a swallowed cancellation."""

from __future__ import annotations

import asyncio
import logging

__all__ = ["raise_if_cancelled", "stop"]

_log = logging.getLogger(__name__)


def raise_if_cancelled() -> None:
    """Raise `CancelledError` if the current task has a cancellation pending.

    redis-py 7 sends commands through `asyncio.wait_for`, which on Python 3.11 can swallow
    a cancellation that arrives as the send completes; the task still counts it. Call this
    after such a call, outside cleanup code.
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


async def stop(task: asyncio.Task[None], grace: float) -> None:
    """Cancel `task` and wait, at most `grace` seconds, for it to end."""
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=grace)
    if not done:
        _log.error("event bus task %r did not stop within %.1f s", task.get_name(), grace)
    elif not task.cancelled() and (error := task.exception()) is not None:
        _log.debug("event bus task %r ended with %r", task.get_name(), error)
