"""Worker processes for analytics: the Computer port over a pebble process pool.

Fits never run on the event loop. Tasks wait in one priority queue (synchronous queries
before job work) and at most `workers` run at once, so a query waits for one task at
most, never for a whole job. When the caller of `run` is cancelled (a job cancelled or
timed out, a query past its deadline), its queued tasks are dropped and its running ones
are stopped by killing their worker process (pebble starts a fresh one): cancelling
stops the work, it does not wait for it.

Workers run at a lower CPU priority (`nice`) than the server, so on a busy machine the
scheduler serves ingest and queries first (docs/performance.md measures it). What a
priority cannot give: a task computing beside a request still slows it through what the
cores share (caches, memory bandwidth; in a VM, perhaps one physical core's two hardware
threads), so a job's next task starts once no request is in flight (`foreground`,
DISPATCH_QUIET_SECONDS at most), and a job's running tasks are stopped while one is
(pausing.py). They come from a fork server that has imported the methods once, so a
killed worker is replaced in milliseconds rather than the ~1 s numpy and scipy take to
import.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from pebble import ProcessPool

from domain.analytics.ports import Foreground
from domain.analytics.work import Item, StoredItem, Task
from infra.analytics.kinds import run_task, run_task_stored, warm
from infra.analytics.pausing import WorkerPauses

__all__ = ["ProcessComputer"]

# One thread per worker: the pool is the parallelism (BLAS threads would oversubscribe).
_ONE_THREAD = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
DISPATCH_QUIET_SECONDS = 0.1  # the longest a job's task waits for no request in flight


def _init_worker(nice: int, idle: bool) -> None:
    if nice:
        with contextlib.suppress(OSError):
            os.nice(nice)
    if idle and hasattr(os, "SCHED_IDLE"):  # Linux: preempted by any runnable server thread
        with contextlib.suppress(OSError):
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


@dataclass(order=True, slots=True)
class _Queued:
    priority: int
    seq: int
    task: Task = field(compare=False)
    function: Callable[[Task], list[Any]] = field(compare=False)
    future: asyncio.Future[list[Any]] = field(compare=False)
    index: int = field(compare=False)
    on_done: Callable[[int], None] | None = field(compare=False)


class ProcessComputer:
    def __init__(
        self, workers: int, *, nice: int = 10, idle: bool = False, lazy: bool = False
    ) -> None:
        self.workers = max(1, workers)
        self.nice = nice
        self.idle = idle
        self.lazy = lazy  # the pool starts at the first task, not at `start`
        self._pool: ProcessPool | None = None
        self._queue: asyncio.PriorityQueue[_Queued] = asyncio.PriorityQueue()
        self._free = asyncio.Semaphore(self.workers)
        self._seq = itertools.count()
        self._dispatcher: asyncio.Task[None] | None = None
        self._starting: asyncio.Future[ProcessPool] | None = None
        self._foreground: Foreground | None = None
        self._running = {0: 0, 1: 0}  # tasks running by priority: queries' (0), jobs' (1)
        self._pauses = WorkerPauses(self._worker_pids, self._only_jobs_running)

    async def start(self, foreground: Foreground | None = None) -> None:
        """Returns at once: the pool starts behind it (its fork server imports the methods,
        1.5 s here, which a server's start-up need not wait for); work queued meanwhile runs
        once it is up. `lazy`: nothing starts until the first task, so a server that runs
        no analytics holds no worker processes (~150 MB; docs/performance.md, "Memory").
        `foreground`: the requests a job's tasks give way to (synchronous queries' do not)."""
        self._foreground = foreground
        if foreground is not None:
            foreground.watch(self._pauses.foreground)
        if not self.lazy:
            self._dispatcher = asyncio.create_task(self._dispatch())

    def _worker_pids(self) -> list[int]:
        """The pool's worker processes now (pebble keeps them by pid; no public way)."""
        manager = getattr(getattr(self._pool, "_pool_manager", None), "worker_manager", None)
        workers = getattr(manager, "workers", None)
        return list(workers) if isinstance(workers, dict) else []

    def _only_jobs_running(self) -> bool:
        return bool(self._running[1]) and not self._running[0]

    def _count_running(self, priority: int, change: int) -> None:
        """Workers stop only while nothing but job tasks runs: a query's task serves a
        request, and it never waits."""
        self._running[priority] += change
        if not self._only_jobs_running():
            self._pauses.resume()

    def _start_pool(self) -> ProcessPool:
        for name in _ONE_THREAD:
            os.environ.setdefault(name, "1")
        context = multiprocessing.get_context("forkserver")
        # The methods first: imported whole here, not lazily as in the server (compute.py).
        context.set_forkserver_preload(["infra.analytics.methods", "infra.analytics.kinds"])
        pool = ProcessPool(
            max_workers=self.workers,
            initializer=_init_worker,
            initargs=(self.nice, self.idle),
            context=context,
        )
        for _ in range(self.workers):  # start and warm every worker now, not at the first query
            pool.schedule(warm)
        return pool

    async def close(self) -> None:
        self._pauses.close()
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher
        if self._starting is not None:  # a pool still starting is stopped once it is up
            with contextlib.suppress(BaseException):
                self._pool = await asyncio.shield(self._starting)
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.stop()  # type: ignore[no-untyped-call]
            await asyncio.to_thread(pool.join, 10)

    async def run(
        self,
        tasks: Sequence[Task],
        *,
        urgent: bool = False,
        on_done: Callable[[int], None] | None = None,
    ) -> list[Item]:
        return await self._run(tasks, run_task, 0 if urgent else 1, on_done)

    async def run_stored(
        self, tasks: Sequence[Task], *, on_done: Callable[[int], None] | None = None
    ) -> list[StoredItem]:
        return await self._run(tasks, run_task_stored, 1, on_done)

    async def _run(
        self,
        tasks: Sequence[Task],
        function: Callable[[Task], list[Any]],
        priority: int,
        on_done: Callable[[int], None] | None,
    ) -> list[Any]:
        loop = asyncio.get_running_loop()
        if self._dispatcher is None:  # lazy: the first task starts the pool
            self._dispatcher = asyncio.create_task(self._dispatch())
        futures: list[asyncio.Future[list[Any]]] = []
        for index, task in enumerate(tasks):
            future: asyncio.Future[list[Any]] = loop.create_future()
            futures.append(future)
            self._queue.put_nowait(
                _Queued(priority, next(self._seq), task, function, future, index, on_done)
            )
        try:
            results = await asyncio.gather(*futures)
        except BaseException:
            for future in futures:  # queued: dropped; running: its worker is killed
                future.cancel()
            raise
        return [item for items in results for item in items]

    async def _dispatch(self) -> None:
        loop = asyncio.get_running_loop()
        self._starting = asyncio.ensure_future(asyncio.to_thread(self._start_pool))
        self._pool = await asyncio.shield(self._starting)
        self._starting = None
        while True:
            await self._free.acquire()
            queued = await self._queue.get()
            if queued.priority and self._foreground is not None:
                await self._foreground.quiet(DISPATCH_QUIET_SECONDS)
                self._queue.put_nowait(queued)  # a query's task that came meanwhile goes first
                queued = self._queue.get_nowait()
            if queued.future.done():  # its caller gave up while it waited
                self._free.release()
                continue
            assert self._pool is not None
            self._count_running(queued.priority, 1)
            running: Future[Any] = self._pool.schedule(queued.function, args=(queued.task,))
            running.add_done_callback(functools.partial(self._finished, loop, queued))
            # A caller that gives up cancels its future: the task's worker is killed.
            queued.future.add_done_callback(functools.partial(self._kill_if_cancelled, running))

    def _kill_if_cancelled(self, running: Future[Any], future: asyncio.Future[list[Any]]) -> None:
        if future.cancelled():
            self._pauses.resume()  # a stopped worker would end only once resumed
            running.cancel()

    def _finished(
        self, loop: asyncio.AbstractEventLoop, queued: _Queued, done: Future[Any]
    ) -> None:
        """Called on a pebble thread: hand the outcome to the event loop."""
        loop.call_soon_threadsafe(self._settle, done, queued)

    def _settle(self, done: Future[Any], queued: _Queued) -> None:
        self._free.release()
        self._count_running(queued.priority, -1)
        future = queued.future
        if future.done():
            return
        if done.cancelled():
            future.cancel()
            return
        error = done.exception()
        if error is not None:
            future.set_exception(error)
            return
        future.set_result(done.result())
        if queued.on_done is not None:
            queued.on_done(queued.index)
