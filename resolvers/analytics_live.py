"""`analyticsProgress` and `analyticsCompleted`: a job's progress, and jobs that ended."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

import strawberry

from domain.analytics.events import AnalyticsCompletedEvent as CompletedEvent
from domain.analytics.events import AnalyticsProgressEvent as ProgressEvent
from domain.events import Event
from schema.analytics import AnalyticsCompletedEvent, AnalyticsProgress
from schema.context import Info

__all__ = ["analytics_completed", "analytics_progress"]


async def analytics_progress(
    info: Info, project: str, job_id: strawberry.ID
) -> AsyncGenerator[AnalyticsProgress, None]:
    """The job's progress, at least every second while it runs, from any instance."""
    events = info.context.subscriber.subscribe(ProgressEvent.channel_for(project))
    try:
        async for event in events:
            if isinstance(event, ProgressEvent) and event.job_id == str(job_id):
                yield AnalyticsProgress.of(event)
    finally:
        await _close(events)


async def analytics_completed(
    info: Info, project: str
) -> AsyncGenerator[AnalyticsCompletedEvent, None]:
    """AnalyticsCompletedEvent: every job of the project that ends, however it ends."""
    events = info.context.subscriber.subscribe(CompletedEvent.channel_for(project))
    try:
        async for event in events:
            if isinstance(event, CompletedEvent):
                yield AnalyticsCompletedEvent.of(event)
    finally:
        await _close(events)


async def _close(events: AsyncIterator[Event]) -> None:
    close = getattr(events, "aclose", None)
    if close is not None:
        await close()
