"""`reportGenerated`: every run of the project's reports that ends, ok or failed."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from domain.reports.events import ReportGeneratedEvent as GeneratedEvent
from schema.context import Info
from schema.reports import ReportGeneratedEvent

__all__ = ["report_generated"]


async def report_generated(info: Info, project: str) -> AsyncGenerator[ReportGeneratedEvent, None]:
    """ReportGeneratedEvent: report id, run id, format, bytes, sha256, duration."""
    events = info.context.subscriber.subscribe(GeneratedEvent.channel_for(project))
    try:
        async for event in events:
            if isinstance(event, GeneratedEvent):
                yield ReportGeneratedEvent.of(event)
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
