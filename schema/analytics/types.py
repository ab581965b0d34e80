"""Analytics output types: a job (the RFC's AnalyticsDto), its result, and the live events."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.analytics.events import AnalyticsCompletedEvent as CompletedEvent
from domain.analytics.events import AnalyticsProgressEvent as ProgressEvent
from domain.analytics.model import AnalyticsJob as DomainJob
from domain.analytics.model import JobState as DomainState
from domain.analytics.queries import GetAnalyticsJobResultQuery
from domain.analytics.read_models import AnalysisResult
from domain.analytics.results import AnalyticsKind as DomainKind
from domain.errors import BadUserInput
from schema.analytics.inputs import AnalyticsKind
from schema.analytics.results import AnalyticsItem, SkippedSeries, item_of
from schema.context import Info
from schema.scalars import JSONObject
from schema.types import PageInfo, from_us

__all__ = [
    "AnalyticsCompletedEvent",
    "AnalyticsJob",
    "AnalyticsJobConnection",
    "AnalyticsJobState",
    "AnalyticsProgress",
    "AnalyticsResult",
]

AnalyticsJobState = strawberry.enum(DomainState, name="AnalyticsJobState")


@strawberry.type(description="An analysis's answer: its items in order, a page at a time.")
class AnalyticsResult:
    kind: AnalyticsKind  # type: ignore[valid-type]
    total: int = strawberry.field(description="Items in the whole result.")
    items: list[AnalyticsItem] = strawberry.field(
        description="One result per series (one in all for CORRELATION and COMPARISON)."
    )
    skipped: list[SkippedSeries]
    page_info: PageInfo

    @classmethod
    def of(cls, result: AnalysisResult) -> AnalyticsResult:
        built = [item_of(item) for item in result.items]
        end = result.offset + len(result.items)
        return cls(
            kind=result.kind,
            total=result.total,
            items=[i for i in built if not isinstance(i, SkippedSeries)],
            skipped=[i for i in built if isinstance(i, SkippedSeries)],
            page_info=PageInfo(
                end_cursor=str(end) if result.items else None,
                has_next_page=result.has_next_page,
            ),
        )


async def _result(
    root: AnalyticsJob, info: Info, first: int = 100, after: str | None = None
) -> AnalyticsResult | None:
    offset = 0
    if after is not None:
        if not after.isdigit():
            raise BadUserInput("after is not a cursor this API returned")
        offset = int(after)
    job = root._job
    found = await info.context.bus.ask(
        GetAnalyticsJobResultQuery(job.project, job.id, offset=offset, first=first)
    )
    return None if found is None else AnalyticsResult.of(found)


@strawberry.type(description="An analytics job (the RFC's AnalyticsDto).")
class AnalyticsJob:
    id: strawberry.ID
    project: str
    kind: AnalyticsKind  # type: ignore[valid-type]
    state: AnalyticsJobState  # type: ignore[valid-type]
    progress: float = strawberry.field(description="0 to 1.")
    phase: str = strawberry.field(description="queued, reading, computing, writing, or the end")
    created_at: datetime
    created_by: str
    started_at: datetime | None
    finished_at: datetime | None
    duration: float | None = strawberry.field(description="Seconds from start to end.")
    error: str | None
    cancel_requested: bool
    attempt: int = strawberry.field(description="Runs started (a restart after a crash adds one).")
    timeout: float = strawberry.field(description="Seconds.")
    expires_at: datetime | None = strawberry.field(description="When it and its result go.")
    input: JSONObject
    _job: strawberry.Private[DomainJob]
    result: AnalyticsResult | None = strawberry.field(
        resolver=_result, description="Null until SUCCEEDED; a page of `first` items."
    )

    @classmethod
    def of(cls, job: DomainJob) -> AnalyticsJob:
        duration = job.duration_us
        return cls(
            id=strawberry.ID(job.id),
            project=job.project,
            kind=job.kind,
            state=job.state,
            progress=job.progress,
            phase=job.phase,
            created_at=from_us(job.created_us),
            created_by=job.created_by,
            started_at=None if job.started_us is None else from_us(job.started_us),
            finished_at=None if job.finished_us is None else from_us(job.finished_us),
            duration=None if duration is None else duration / 1e6,
            error=job.error,
            cancel_requested=job.cancel_requested,
            attempt=job.attempt,
            timeout=job.timeout_us / 1e6,
            expires_at=None if job.expires_us is None else from_us(job.expires_us),
            input=JSONObject(job.input.to_dict()),
            _job=job,
        )


@strawberry.type(description="A page of jobs, newest first.")
class AnalyticsJobConnection:
    items: list[AnalyticsJob]
    page_info: PageInfo


@strawberry.type(description="A running job's progress (at least every second).")
class AnalyticsProgress:
    job_id: strawberry.ID
    kind: AnalyticsKind  # type: ignore[valid-type]
    state: AnalyticsJobState  # type: ignore[valid-type]
    progress: float
    phase: str
    done: int = strawberry.field(description="Work units done (series, mostly).")
    total: int
    at: datetime

    @classmethod
    def of(cls, e: ProgressEvent) -> AnalyticsProgress:
        return cls(
            job_id=strawberry.ID(e.job_id),
            kind=DomainKind(e.kind),
            state=DomainState(e.state),
            progress=e.progress,
            phase=e.phase,
            done=e.done,
            total=e.total,
            at=from_us(e.at_us),
        )


@strawberry.type(description="A job ended (the RFC's AnalyticsCompletedEvent).")
class AnalyticsCompletedEvent:
    project: str
    job_id: strawberry.ID
    kind: AnalyticsKind  # type: ignore[valid-type]
    state: AnalyticsJobState  # type: ignore[valid-type]
    duration: float | None = strawberry.field(description="Seconds; null if it never started.")
    error: str | None
    result_count: int
    at: datetime

    @classmethod
    def of(cls, e: CompletedEvent) -> AnalyticsCompletedEvent:
        return cls(
            project=e.project,
            job_id=strawberry.ID(e.job_id),
            kind=DomainKind(e.kind),
            state=DomainState(e.state),
            duration=None if e.duration_ms is None else e.duration_ms / 1000,
            error=e.error,
            result_count=e.result_count,
            at=from_us(e.at_us),
        )
