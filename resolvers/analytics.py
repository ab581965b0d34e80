"""Analytics operations: jobs (create, cancel, read, list) and the synchronous analysis."""

from __future__ import annotations

import base64

import strawberry

from domain.analytics.commands import CancelAnalyticsJobCommand, CreateAnalyticsJobCommand
from domain.analytics.model import JobState
from domain.analytics.queries import (
    GetAnalyticsJobQuery,
    GetAnalyticsQuery,
    ListAnalyticsJobsQuery,
)
from domain.analytics.results import AnalyticsKind as DomainKind
from domain.errors import BadUserInput
from domain.paging import cursor_timestamp
from schema.analytics import (
    AnalyticsInput,
    AnalyticsJob,
    AnalyticsJobConnection,
    AnalyticsJobInput,
    AnalyticsJobState,
    AnalyticsKind,
    AnalyticsResult,
)
from schema.context import Info
from schema.types import PageInfo

__all__ = [
    "analytics",
    "analytics_job",
    "analytics_jobs",
    "cancel_analytics_job",
    "create_analytics_job",
]


async def create_analytics_job(info: Info, project: str, job: AnalyticsJobInput) -> AnalyticsJob:
    """CreateAnalyticsJobCommand: stored QUEUED before the answer; any instance runs it,
    once. Follow it with `analyticsProgress` and `analyticsCompleted`."""
    actor = info.context.require_principal().subject
    command = CreateAnalyticsJobCommand(
        project,
        DomainKind(job.kind),
        job.input.to_domain(info.context.clock.now_us()),
        job.timeout_us(),
        actor=actor,
    )
    created = await info.context.bus.handle(
        command, actor=actor, request_id=info.context.request_id
    )
    return AnalyticsJob.of(created)


async def cancel_analytics_job(info: Info, project: str, id: strawberry.ID) -> AnalyticsJob:
    """A queued job ends CANCELLED at once; a running one within a second (its worker
    processes are killed), answered with `cancelRequested`."""
    actor = info.context.require_principal().subject
    found = await info.context.bus.handle(
        CancelAnalyticsJobCommand(project, str(id), actor=actor),
        actor=actor,
        request_id=info.context.request_id,
    )
    return AnalyticsJob.of(found)


async def analytics_job(info: Info, project: str, id: strawberry.ID) -> AnalyticsJob:
    return AnalyticsJob.of(await info.context.bus.ask(GetAnalyticsJobQuery(project, str(id))))


async def analytics_jobs(
    info: Info,
    project: str,
    state: AnalyticsJobState | None = None,  # type: ignore[valid-type]
    kind: AnalyticsKind | None = None,  # type: ignore[valid-type]
    first: int = 20,
    after: str | None = None,
) -> AnalyticsJobConnection:
    """Newest first, paged by cursor."""
    page = await info.context.bus.ask(
        ListAnalyticsJobsQuery(
            project,
            state=None if state is None else JobState(state),
            kind=None if kind is None else DomainKind(kind),
            first=first,
            after=_decode(after),
        )
    )
    end = None
    if page.items:
        last = page.items[-1]
        end = base64.urlsafe_b64encode(f"{last.created_us}:{last.id}".encode()).decode()
    return AnalyticsJobConnection(
        items=[AnalyticsJob.of(j) for j in page.items],
        page_info=PageInfo(end_cursor=end, has_next_page=page.has_next_page),
    )


def _decode(cursor: str | None) -> tuple[int, str] | None:
    if cursor is None:
        return None
    try:
        created, job_id = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        return cursor_timestamp(created), job_id
    except ValueError:
        raise BadUserInput("after is not a cursor this API returned") from None


async def analytics(
    info: Info,
    project: str,
    kind: AnalyticsKind,  # type: ignore[valid-type]
    input: AnalyticsInput,
) -> AnalyticsResult:
    """GetAnalyticsQuery: the same result as a job, now, for small inputs (up to
    VIGIL_ANALYTICS_SYNC_MAX_POINTS series x buckets, answered within
    VIGIL_ANALYTICS_SYNC_TIMEOUT_SECONDS); refused beyond, with `extensions.hint`."""
    query = GetAnalyticsQuery(
        project, DomainKind(kind), input.to_domain(info.context.clock.now_us())
    )
    return AnalyticsResult.of(await info.context.bus.ask(query))
