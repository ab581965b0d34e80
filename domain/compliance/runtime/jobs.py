"""Periodic jobs beside the bus: each runs every so often, and says when it last did.

The compliance runtime's jobs (flushing the access and read ledgers, refreshing the
revocations, signing checkpoints, running the scheduled checks) are independent: one
that fails is logged and tried again at its next turn; the others go on. `last_run_us`
is what the `jobs` health component watches (a job late by three turns is degraded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from domain.ports import Clock

__all__ = ["Job", "Jobs"]

logger = logging.getLogger("vigil.jobs")


@dataclass(slots=True)
class Job:
    name: str
    every_seconds: float
    run: Callable[[], Awaitable[object]]
    last_run_us: int = 0  # the end of the last successful run
    last_try_us: int = 0  # the start of the last run, successful or not
    last_error: str = ""

    def due(self, now_us: int) -> bool:
        return now_us - self.last_try_us >= self.every_seconds * 1_000_000

    def late(self, now_us: int) -> float:
        """Seconds past three turns since the last successful run (0: on time)."""
        allowed = 3 * self.every_seconds * 1_000_000 + 30_000_000
        since = self.last_run_us or self.last_try_us
        return max(0.0, (now_us - since - allowed) / 1e6) if since else 0.0


class Jobs:
    def __init__(self, clock: Clock, jobs: list[Job], *, tick_seconds: float = 1.0) -> None:
        self.clock = clock
        self.jobs = jobs
        self.tick_seconds = tick_seconds
        self.started_us = 0
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.started_us = self.clock.now_us()
        self._task = asyncio.create_task(self._loop())

    async def close(self, *, final: tuple[str, ...] = ()) -> None:
        """Stop ticking, then run the `final` jobs once more (what must not be lost)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for job in self.jobs:
            if job.name in final:
                await self._run(job)

    async def run_due(self) -> None:
        now = self.clock.now_us()
        for job in self.jobs:
            if job.due(now):
                await self._run(job)

    async def _run(self, job: Job) -> None:
        job.last_try_us = self.clock.now_us()
        try:
            await job.run()
        except Exception as exc:  # one job's failure must not stop the others
            job.last_error = type(exc).__name__
            logger.exception("job %s failed", job.name)
        else:
            job.last_run_us, job.last_error = self.clock.now_us(), ""

    async def _loop(self) -> None:
        while True:
            await self.run_due()
            await asyncio.sleep(self.tick_seconds)
