"""One job running in this process: its leases, its progress, and why it was stopped."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from enum import StrEnum

from domain.analytics.events import AnalyticsProgressEvent
from domain.analytics.model import AnalyticsJob

__all__ = ["LEASE_PREFIX", "Run", "Stop", "job_lease", "slot_lease"]

LEASE_PREFIX = "analytics/"


def job_lease(job_id: str) -> str:
    """Held by the one process running the job: what makes a job run once."""
    return f"{LEASE_PREFIX}job/{job_id}"


def slot_lease(project: str, slot: int) -> str:
    """One of a project's concurrency slots, shared by every process on the store."""
    return f"{LEASE_PREFIX}slot/{project}/{slot}"


class Stop(StrEnum):
    CANCELLED = "cancelled"  # a user asked: the job ends CANCELLED
    LOST = "lost"  # the lease or the attempt went to another process: write nothing
    SHUTDOWN = "shutdown"  # this process stops: the job stays RUNNING for the next one


@dataclass(slots=True)
class Run:
    job: AnalyticsJob
    leases: tuple[str, ...]
    task: asyncio.Task[None] | None = None
    phase: str = "reading"
    done: int = 0
    total: int = 0
    stopped: Stop | None = None
    _counted: set[int] = field(default_factory=set)

    @property
    def progress(self) -> float:
        """Reading counts for 5%, the computation (tasks done) for the rest."""
        if self.phase == "reading" or not self.total:
            return 0.0
        return round(0.05 + 0.95 * self.done / self.total, 4)

    def task_done(self, index: int) -> None:
        if index not in self._counted:
            self._counted.add(index)
            self.done += 1

    def stop(self, why: Stop) -> None:
        if self.stopped is None:
            self.stopped = why
        if self.task is not None:
            self.task.cancel()

    def progress_event(self, at_us: int) -> AnalyticsProgressEvent:
        job = self.job
        return AnalyticsProgressEvent(
            project=job.project,
            job_id=job.id,
            kind=job.kind.value,
            state=job.state.value,
            progress=self.progress,
            phase=self.phase,
            done=self.done,
            total=self.total,
            at_us=at_us,
        )
