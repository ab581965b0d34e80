"""The job runner: takes stored jobs, runs each once across every process, stores results.

Each process polls the store for QUEUED and RUNNING jobs (and looks at once when a job is
created here). To run one it takes, through the kernel's LeaseStore, a slot of the job's
project (`max_jobs_per_project` slots, shared by every process, so the bound holds
across instances) and the job's own lease, then moves the job to RUNNING at the next
attempt by a compare-and-set in the store. The leases are renewed every poll; a process
that dies stops renewing, and once its leases expire another process (or the same one
restarted, under the same instance name, at once) starts the job again from the start.

A run reads its series through the bus (its kind's reading step), computes in worker
processes, stores the items and ends the job; progress is stored and published at least
every `progress_seconds`. Cancelling a run cancels its computation, which kills the worker
processes running it; a run whose timeout passes fails the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from domain.analytics.handlers import completed_event
from domain.analytics.limits import AnalyticsLimits
from domain.analytics.model import AnalyticsJob, JobState
from domain.analytics.ports import AnalyticsJobStore, Computer, Foreground
from domain.analytics.reading import background
from domain.analytics.results import AnalyticsKind
from domain.analytics.runtime.run import LEASE_PREFIX, Run, Stop, job_lease, slot_lease
from domain.analytics.work import SKIPPED, Kind, StoredItem
from domain.errors import VigilError
from domain.events import Event
from domain.messagebus import Ask
from domain.ports import Clock, LeaseStore

__all__ = ["JobRunner", "RunnerSettings"]

logger = logging.getLogger("vigil.analytics")

Publish = Callable[[Event], Awaitable[None]]
CANDIDATES = 100
PURGE_EVERY_US = 60_000_000


@dataclass(frozen=True, slots=True)
class RunnerSettings:
    owner: str  # this process's name among instances (stable across restarts)
    max_jobs: int = 2  # running at once in this process
    max_jobs_per_project: int = 2  # running at once in one project, in every process
    lease_us: int = 15_000_000
    poll_seconds: float = 1.0
    progress_seconds: float = 0.5  # "at least every second", with room for a slow write


class JobRunner:
    """Implements the AnalyticsRuntime port; `start` once the bus exists, `close` before
    the store."""

    def __init__(
        self,
        store: AnalyticsJobStore,
        leases: LeaseStore,
        computer: Computer,
        kinds: Mapping[AnalyticsKind, Kind],
        clock: Clock,
        *,
        settings: RunnerSettings,
        limits: AnalyticsLimits,
    ) -> None:
        self.store = store
        self.settings = settings
        self.limits = limits
        self._leases = leases
        self._computer = computer
        self._kinds = kinds
        self._clock = clock
        self._runs: dict[str, Run] = {}
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._publish: Publish | None = None
        self._ask: Ask | None = None
        self._foreground: Foreground | None = None
        self._renewed_us = 0
        self._purged_us = 0

    @property
    def running(self) -> frozenset[str]:
        """The ids of the jobs running in this process."""
        return frozenset(self._runs)

    async def start(
        self, *, publish: Publish, ask: Ask, foreground: Foreground | None = None
    ) -> None:
        """`foreground`: the requests a job's reads give way to (reading.background)."""
        self._publish, self._ask, self._foreground = publish, ask, foreground
        self._task = asyncio.create_task(self._loop())

    async def close(self) -> None:
        """Stop looking for work, stop every run (they stay RUNNING in the store) and give
        their leases back, so another process takes them over at once."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        runs = list(self._runs.values())
        for run in runs:
            run.stop(Stop.SHUTDOWN)
        await asyncio.gather(*(r.task for r in runs if r.task), return_exceptions=True)

    def wake(self) -> None:
        self._woken.set()

    def cancel_local(self, job_id: str) -> bool:
        run = self._runs.get(job_id)
        if run is None:
            return False
        run.stop(Stop.CANCELLED)
        return True

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), self.settings.poll_seconds)
            self._woken.clear()
            try:
                now = self._clock.now_us()
                await self._renew(now)
                await self._claim(now)
                if now - self._purged_us >= PURGE_EVERY_US:
                    self._purged_us = now
                    await self.store.purge_expired(now)
            except Exception:  # the store may be down for a moment: try at the next poll
                logger.exception("analytics runner round failed")
                self._expire(self._clock.now_us())

    async def _renew(self, now: int) -> None:
        """One write renews every lease of every run; a run whose job lease is gone stops."""
        if not self._runs:
            return
        names = {name for run in self._runs.values() for name in run.leases}
        kept = await self._leases.renew_leases(
            names, self.settings.owner, now_us=now, ttl_us=self.settings.lease_us
        )
        self._renewed_us = now
        for run in list(self._runs.values()):
            if job_lease(run.job.id) not in kept:
                logger.warning("analytics job %s: its lease was lost; stopping", run.job.id)
                run.stop(Stop.LOST)

    def _expire(self, now: int) -> None:
        """After failed rounds: stop every run whose leases may have expired by now."""
        if self._runs and now - self._renewed_us > self.settings.lease_us * 2 // 3:
            for run in list(self._runs.values()):
                run.stop(Stop.LOST)

    async def _claim(self, now: int) -> None:
        free = self.settings.max_jobs - len(self._runs)
        if free <= 0:
            return
        candidates = await self.store.runnable_jobs(limit=CANDIDATES)
        if not candidates:
            return
        live = await self._leases.lease_holders(LEASE_PREFIX, now_us=now)
        mine = {name for run in self._runs.values() for name in run.leases}
        for job in candidates:
            if free <= 0:
                break
            if job.id in self._runs or live.get(job_lease(job.id), self.settings.owner) != (
                self.settings.owner
            ):
                continue
            taken = await self._take(job, now, live, mine)
            if taken is not None:
                mine.update(taken.leases)
                live.update(dict.fromkeys(taken.leases, self.settings.owner))
                free -= 1

    async def _take(
        self, job: AnalyticsJob, now: int, live: dict[str, str], mine: set[str]
    ) -> Run | None:
        owner, ttl = self.settings.owner, self.settings.lease_us
        # A lease in this owner's name that no run here holds is a dead predecessor's.
        slots = (slot_lease(job.project, k) for k in range(self.settings.max_jobs_per_project))
        slot = next((s for s in slots if s not in mine and live.get(s, owner) == owner), None)
        if slot is None:
            return None
        names = (slot, job_lease(job.id))
        held: list[str] = []
        for name in names:
            if not await self._leases.acquire_lease(name, owner, now_us=now, ttl_us=ttl):
                break
            held.append(name)
        started = None
        if len(held) == len(names):
            if job.cancel_requested:  # cancelled while its runner was dead: end it here
                await self._end(job, JobState.CANCELLED, None, [])
            else:
                # The time now, not the round's: a run that ended since the round began
                # released this slot, and this one must not seem to start before that end.
                started = await self.store.start_job(
                    job.project,
                    job.id,
                    attempt=job.attempt,
                    owner=owner,
                    now_us=self._clock.now_us(),
                )
        if started is None:
            for name in held:
                await self._leases.release_lease(name, owner)
            return None
        run = Run(started, names)
        self._runs[job.id] = run
        run.task = asyncio.create_task(self._execute(run))
        logger.info("analytics job %s (%s): attempt %d", job.id, job.kind, started.attempt)
        return run

    async def _execute(self, run: Run) -> None:
        job = run.job
        reporter = asyncio.create_task(self._report(run))
        items: list[StoredItem] = []
        error: str | None = None
        state = JobState.SUCCEEDED
        try:
            try:
                async with asyncio.timeout(job.timeout_us / 1e6):
                    items = await self._compute(run)
                if items and all(item.kind == SKIPPED for item in items):
                    state, error = (
                        JobState.FAILED,
                        f"nothing could be analysed: {items[0].reason}",
                    )
            except TimeoutError:
                state, error = JobState.FAILED, f"timed out after {job.timeout_us / 1e6:g} s"
            except asyncio.CancelledError:
                if run.stopped is not Stop.CANCELLED:
                    raise
                state = JobState.CANCELLED
            except VigilError as exc:
                state, error = JobState.FAILED, exc.message
            except Exception as exc:  # a bug in a method must end the job, not the runner
                logger.exception("analytics job %s failed", job.id)
                state, error = JobState.FAILED, f"internal error ({type(exc).__name__})"
            finally:
                reporter.cancel()
            await self._end(job, state, error, items)
        except asyncio.CancelledError:
            # Lost or shut down: this run ends without a word; another run of the job (here
            # or elsewhere) finishes it. The leases go back below either way.
            return
        finally:
            self._runs.pop(job.id, None)
            for name in run.leases:
                with contextlib.suppress(Exception):
                    await self._leases.release_lease(name, self.settings.owner)

    async def _compute(self, run: Run) -> list[StoredItem]:
        job, kind = run.job, self._kinds[run.job.kind]
        assert self._ask is not None
        background(self._foreground)  # this task's reads give way to ingest and queries
        work = await kind.prepare(
            self._ask, job.project, job.input, max_points=self.limits.job_max_points
        )
        run.total, run.phase = len(work.tasks), "computing"
        items = await self._computer.run_stored(work.tasks, on_done=run.task_done)
        run.phase = "writing"
        if items and any(item.kind != SKIPPED for item in items):
            await self.store.save_results(job.project, job.id, job.attempt, items)
        return items

    async def _end(
        self, job: AnalyticsJob, state: JobState, error: str | None, items: list[StoredItem]
    ) -> None:
        now = self._clock.now_us()
        count = len(items) if state is JobState.SUCCEEDED else 0
        final = job.ended(
            state, at_us=now, ttl_us=self.limits.result_ttl_us, error=error, count=count
        )
        if not await self.store.finish_job(final):
            logger.warning("analytics job %s: another process took it over", job.id)
            return
        logger.info("analytics job %s: %s %s", job.id, state.value, error or "")
        if self._publish is not None:
            await self._publish(completed_event(final, now))

    async def _report(self, run: Run) -> None:
        """Progress into the store and onto the bus every `progress_seconds`, on a fixed
        beat (a slow store write delays one report, not every later one); the stored job
        tells whether a cancel was asked for elsewhere."""
        period = self.settings.progress_seconds
        beat = time.monotonic()
        while True:
            if self._publish is not None:
                await self._publish(run.progress_event(self._clock.now_us()))
            beat += period
            await asyncio.sleep(max(0.0, beat - time.monotonic()))
            beat = max(beat, time.monotonic() - period)  # after a stall: no burst to catch up
            try:
                stored = await self.store.update_progress(
                    run.job.project,
                    run.job.id,
                    attempt=run.job.attempt,
                    progress=run.progress,
                    phase=run.phase,
                )
            except Exception:  # the renewal round decides whether the run may go on
                logger.exception("analytics job %s: progress not stored", run.job.id)
                continue
            if stored is None:
                run.stop(Stop.LOST)
            elif stored.cancel_requested:
                run.stop(Stop.CANCELLED)
