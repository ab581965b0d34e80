"""Worker processes that render users' templates, so a render never holds the event loop.

A pebble process pool, started at the first render of a user's template (most servers
never need it): each render gets `timeout_seconds`, past which its worker is killed
(pebble starts another) and the render fails; each worker caps its address space at what
it holds after start-up plus `memory_mb`, so a template that builds huge values fails with
MemoryError in the worker instead of swapping the server. A thread could not do this: a
runaway render cannot be stopped from outside a thread, and it would hold the GIL.
Workers come from the fork server the analytics workers use (no preload is set here: the
fork server's preload list is one per process, and analytics sets it); a new worker
imports what it needs at its first render.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import resource
import threading
from collections.abc import Mapping
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from pebble import ProcessPool

from infra.notifications.templates.budget import (
    BudgetedEnvironment,
    RenderRefused,
    TemplateBudget,
    render_within,
)

__all__ = ["RenderPool"]

_ENVIRONMENTS: dict[TemplateBudget, BudgetedEnvironment] = {}  # one per worker process


def _init_worker(memory_mb: int) -> None:
    with open("/proc/self/statm") as statm:  # Linux: pages of address space held now
        held = int(statm.read().split()[0]) * resource.getpagesize()
    limit = held + memory_mb * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def _render_job(
    source: str, context: Mapping[str, Any], budget: TemplateBudget, trial: bool
) -> str:
    env = _ENVIRONMENTS.get(budget)
    if env is None:
        env = _ENVIRONMENTS[budget] = BudgetedEnvironment(budget)
    return render_within(env, source, context, trial=trial)


class RenderPool:
    def __init__(self, budget: TemplateBudget, *, workers: int = 1) -> None:
        self.budget = budget
        self.workers = max(1, workers)
        self._pool: ProcessPool | None = None
        self._starting = threading.Lock()
        self.in_flight = 0  # renders asked of the pool and not answered yet

    def _started(self) -> ProcessPool:
        with self._starting:
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")
                self._pool = ProcessPool(
                    max_workers=self.workers,
                    initializer=_init_worker,
                    initargs=(self.budget.memory_mb,),
                    context=context,
                )
            return self._pool

    async def render(self, source: str, context: Mapping[str, Any], *, trial: bool) -> str:
        """The rendered text; RenderRefused if the template fails or exceeds a budget."""
        self.in_flight += 1
        try:
            return await self._render(source, context, trial=trial)
        finally:
            self.in_flight -= 1

    async def _render(self, source: str, context: Mapping[str, Any], *, trial: bool) -> str:
        pool = await asyncio.to_thread(self._started) if self._pool is None else self._pool
        running = pool.schedule(
            _render_job,
            args=(source, dict(context), self.budget, trial),
            timeout=self.budget.timeout_seconds,
        )
        try:
            text: str = await asyncio.wrap_future(running)
        except FutureTimeout:
            raise RenderRefused(
                f"the template took longer than {self.budget.timeout_seconds:g} s to render"
            ) from None
        except asyncio.CancelledError:
            running.cancel()  # type: ignore[no-untyped-call]  # its caller left: the worker is stopped, not waited for
            raise
        except RenderRefused:
            raise
        except Exception as exc:  # the worker died (out of memory, killed)
            raise RenderRefused(f"the template's render failed ({type(exc).__name__})") from None
        return text

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.stop()  # type: ignore[no-untyped-call]
            await asyncio.to_thread(pool.join, 10)
