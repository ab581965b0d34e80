"""Analytics command handlers: create a job, cancel one."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from domain.analytics.commands import CancelAnalyticsJobCommand, CreateAnalyticsJobCommand
from domain.analytics.events import AnalyticsCompletedEvent
from domain.analytics.limits import AnalyticsLimits
from domain.analytics.model import AnalyticsJob, JobState
from domain.analytics.ports import AnalyticsJobStore, AnalyticsRuntime
from domain.analytics.results import AnalyticsKind
from domain.analytics.work import Kind
from domain.errors import BadUserInput, NotFound
from domain.events import Event
from domain.ports import Clock

__all__ = ["cancel_analytics_job", "completed_event", "create_analytics_job"]

MIN_TIMEOUT_US = 1_000_000


async def create_analytics_job(
    command: CreateAnalyticsJobCommand,
    events: list[Event],
    *,
    analytics_jobs: AnalyticsJobStore,
    analytics_runtime: AnalyticsRuntime,
    analytics_kinds: Mapping[AnalyticsKind, Kind],
    analytics_limits: AnalyticsLimits,
    clock: Clock,
) -> AnalyticsJob:
    """Check the input, store the job QUEUED (durable before the answer), wake the runner."""
    if command.kind not in analytics_kinds:
        raise BadUserInput(f"no analysis of kind {command.kind.value} in this version")
    spec = command.input.checked(command.kind)
    timeout = command.timeout_us or analytics_limits.job_timeout_us
    if not MIN_TIMEOUT_US <= timeout <= analytics_limits.job_max_timeout_us:
        hours = analytics_limits.job_max_timeout_us / 3_600_000_000
        raise BadUserInput(f"timeout must be between 1 s and {hours:g} h")
    job = AnalyticsJob(
        id=uuid.uuid4().hex,
        project=command.project,
        kind=command.kind,
        input=spec,
        created_us=clock.now_us(),
        created_by=command.actor,
        timeout_us=timeout,
    )
    await analytics_jobs.add_job(job)
    analytics_runtime.wake()
    return job


async def cancel_analytics_job(
    command: CancelAnalyticsJobCommand,
    events: list[Event],
    *,
    analytics_jobs: AnalyticsJobStore,
    analytics_runtime: AnalyticsRuntime,
    analytics_limits: AnalyticsLimits,
    clock: Clock,
) -> AnalyticsJob:
    """A queued job ends CANCELLED now. A running one is asked to stop: at once if it runs
    in this process, else its runner reads the request within a second. A finished job is
    answered as it is."""
    now = clock.now_us()
    before = await analytics_jobs.get_job(command.project, command.job_id, now_us=now)
    if before is None:
        raise NotFound(f"no analytics job {command.job_id!r} in project {command.project!r}")
    if before.finished:
        return before
    after = await analytics_jobs.request_cancel(
        command.project, command.job_id, now_us=now, ttl_us=analytics_limits.result_ttl_us
    )
    if after is None:
        raise NotFound(f"no analytics job {command.job_id!r} in project {command.project!r}")
    if before.state is JobState.QUEUED and after.state is JobState.CANCELLED:
        events.append(completed_event(after, now))
    elif after.state is JobState.RUNNING:
        analytics_runtime.cancel_local(after.id)
    return after


def completed_event(job: AnalyticsJob, at_us: int) -> AnalyticsCompletedEvent:
    duration = job.duration_us
    return AnalyticsCompletedEvent(
        project=job.project,
        job_id=job.id,
        kind=job.kind.value,
        state=job.state.value,
        duration_ms=None if duration is None else duration / 1000,
        error=job.error,
        result_count=job.result_count,
        at_us=at_us,
    )
