"""What analytics needs from outside: a job store, worker processes and the job runtime."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from domain.analytics.model import AnalyticsJob, JobState
from domain.analytics.results import AnalyticsKind
from domain.analytics.work import Item, StoredItem, Task
from domain.paging import Page

__all__ = ["AnalyticsJobStore", "AnalyticsRuntime", "Computer", "Foreground"]


class AnalyticsJobStore(Protocol):
    """Jobs and their result items. Every change a runner makes names the job's attempt,
    and is written only while that attempt is the job's latest (a compare-and-set), so a
    run that another process took over writes nothing. Expired jobs read as missing."""

    async def add_job(self, job: AnalyticsJob) -> None:
        """Store a new job; return once it is durable."""
        ...

    async def get_job(self, project: str, job_id: str, *, now_us: int) -> AnalyticsJob | None: ...

    async def list_jobs(
        self,
        project: str,
        *,
        now_us: int,
        state: JobState | None = None,
        kind: AnalyticsKind | None = None,
        first: int = 20,
        after: tuple[int, str] | None = None,
    ) -> Page[AnalyticsJob]:
        """Newest first (created time, then id, descending); `after` a keyset cursor."""
        ...

    async def runnable_jobs(self, *, limit: int) -> list[AnalyticsJob]:
        """QUEUED and RUNNING jobs of every project, oldest first."""
        ...

    async def start_job(
        self, project: str, job_id: str, *, attempt: int, owner: str, now_us: int
    ) -> AnalyticsJob | None:
        """If the job is QUEUED or RUNNING at `attempt` and not cancelled: RUNNING at
        attempt + 1 for `owner`, started now, progress 0. The job after, else None."""
        ...

    async def update_progress(
        self, project: str, job_id: str, *, attempt: int, progress: float, phase: str
    ) -> AnalyticsJob | None:
        """Record progress while the job is RUNNING at `attempt`; the job after (its
        `cancel_requested` tells the runner to stop), None once the attempt is not current."""
        ...

    async def request_cancel(
        self, project: str, job_id: str, *, now_us: int, ttl_us: int
    ) -> AnalyticsJob | None:
        """QUEUED: CANCELLED now (finished, expiring `ttl_us` later); RUNNING:
        `cancel_requested` set for its runner; finished: unchanged. The job after, None if
        there is no such job."""
        ...

    async def save_results(
        self, project: str, job_id: str, attempt: int, items: Sequence[StoredItem]
    ) -> None:
        """Store the result items of a run (replacing any of the same attempt)."""
        ...

    async def finish_job(self, job: AnalyticsJob) -> bool:
        """Write the job's final state if it is still RUNNING at `job.attempt`; also drop
        the result items of other attempts. False: nothing written."""
        ...

    async def get_results(
        self, project: str, job_id: str, attempt: int, *, offset: int, limit: int
    ) -> list[Item]: ...

    async def purge_expired(self, now_us: int) -> int:
        """Delete the jobs (and result items) expired by now; how many jobs."""
        ...


class Computer(Protocol):
    """Worker processes: runs tasks off the event loop, and kills what it runs when the
    caller is cancelled (a cancelled job, a timeout), so cancelling stops the work."""

    async def run(
        self,
        tasks: Sequence[Task],
        *,
        urgent: bool = False,
        on_done: Callable[[int], None] | None = None,
    ) -> list[Item]:
        """The items of every task, in task order. `urgent` tasks (synchronous queries) go
        before queued job tasks; `on_done(i)` is called as task i finishes."""
        ...

    async def run_stored(
        self, tasks: Sequence[Task], *, on_done: Callable[[int], None] | None = None
    ) -> list[StoredItem]:
        """As `run`, the items encoded for a store by the workers (a job's)."""
        ...


class AnalyticsRuntime(Protocol):
    """The job runner, as command handlers see it."""

    def wake(self) -> None:
        """A job was stored: look for work now rather than at the next poll."""
        ...

    def cancel_local(self, job_id: str) -> bool:
        """Stop the job if it runs in this process; False if it does not run here."""
        ...


class Foreground(Protocol):
    """The requests this process is serving (ingest, queries), which a job's work gives
    way to."""

    async def quiet(self, most_seconds: float) -> None:
        """Return once no request is in flight, or after `most_seconds`."""
        ...

    async def arrival(self) -> None:
        """Return when the next request comes in."""
        ...

    def watch(self, listener: Callable[[bool], None]) -> None:
        """Call `listener(True)` when a request comes in while none was in flight, and
        `listener(False)` when the last one in flight ends."""
        ...
