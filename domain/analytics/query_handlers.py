"""Analytics query handlers: a synchronous analysis, jobs, and a job's result."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from domain.analytics.limits import AnalyticsLimits
from domain.analytics.model import AnalyticsJob, JobState
from domain.analytics.ports import AnalyticsJobStore, Computer
from domain.analytics.queries import (
    GetAnalyticsJobQuery,
    GetAnalyticsJobResultQuery,
    GetAnalyticsQuery,
    ListAnalyticsJobsQuery,
)
from domain.analytics.read_models import AnalysisResult
from domain.analytics.reading import TooLarge
from domain.analytics.results import AnalyticsKind
from domain.analytics.work import SKIPPED, Kind
from domain.errors import BadUserInput, NotFound
from domain.messagebus import Ask
from domain.paging import Page, check_first
from domain.ports import Clock

__all__ = ["analytics", "analytics_job", "analytics_job_result", "analytics_jobs"]

USE_A_JOB = "createAnalyticsJob"


async def analytics(
    query: GetAnalyticsQuery,
    *,
    ask: Ask,
    analytics_kinds: Mapping[AnalyticsKind, Kind],
    analytics_workers: Computer,
    analytics_limits: AnalyticsLimits,
) -> AnalysisResult:
    """Read, then compute in a worker process ahead of queued job work. Refused, with
    `extensions.hint`, when the input passes the synchronous limit or the answer takes
    longer than the synchronous timeout: a job has neither bound."""
    kind = analytics_kinds.get(query.kind)
    if kind is None:
        raise BadUserInput(f"no analysis of kind {query.kind.value} in this version")
    spec = query.input.checked(query.kind)
    limits = analytics_limits
    try:
        work = await kind.prepare(ask, query.project, spec, max_points=limits.sync_max_points)
    except TooLarge as exc:
        raise BadUserInput(
            f"{exc.message} for an answer now: run it as a job (createAnalyticsJob)",
            hint=USE_A_JOB,
            points=exc.points,
            limit=exc.limit,
        ) from None
    try:
        async with asyncio.timeout(limits.sync_timeout_us / 1e6):
            items = await analytics_workers.run(work.tasks, urgent=True)
    except TimeoutError:
        raise BadUserInput(
            f"this analysis takes longer than {limits.sync_timeout_us / 1e6:g} s: "
            "run it as a job (createAnalyticsJob)",
            hint=USE_A_JOB,
        ) from None
    if items and all(item["kind"] == SKIPPED for item in items):
        raise BadUserInput(f"nothing could be analysed: {items[0]['reason']}")
    return AnalysisResult(query.kind, items, total=len(items))


async def analytics_job(
    query: GetAnalyticsJobQuery, *, analytics_jobs: AnalyticsJobStore, clock: Clock
) -> AnalyticsJob:
    job = await analytics_jobs.get_job(query.project, query.id, now_us=clock.now_us())
    if job is None:
        raise NotFound(f"no analytics job {query.id!r} in project {query.project!r}")
    return job


async def analytics_jobs(
    query: ListAnalyticsJobsQuery, *, analytics_jobs: AnalyticsJobStore, clock: Clock
) -> Page[AnalyticsJob]:
    check_first(query.first)
    return await analytics_jobs.list_jobs(
        query.project,
        now_us=clock.now_us(),
        state=query.state,
        kind=query.kind,
        first=query.first,
        after=query.after,
    )


async def analytics_job_result(
    query: GetAnalyticsJobResultQuery, *, analytics_jobs: AnalyticsJobStore, clock: Clock
) -> AnalysisResult | None:
    """None until the job has SUCCEEDED."""
    check_first(query.first)
    if query.offset < 0:
        raise BadUserInput("after must be a cursor this API returned")
    job = await analytics_job(
        GetAnalyticsJobQuery(query.project, query.id), analytics_jobs=analytics_jobs, clock=clock
    )
    if job.state is not JobState.SUCCEEDED:
        return None
    items = await analytics_jobs.get_results(
        job.project, job.id, job.attempt, offset=query.offset, limit=query.first
    )
    return AnalysisResult(job.kind, items, total=job.result_count, offset=query.offset)
