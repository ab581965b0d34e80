"""Usage event handlers: each counts into the instance's meter, in memory."""

from __future__ import annotations

from domain.analytics.events import AnalyticsCompletedEvent
from domain.metrics.events import MetricCollectedEvent
from domain.notifications.events import NotificationSentEvent
from domain.reports.events import ReportGeneratedEvent
from domain.usage.meter import UsageMeter
from domain.usage.model import ANALYTICS_CPU_SECONDS, NOTIFICATIONS_SENT, REPORTS_RENDERED

__all__ = ["count_analytics", "count_ingest", "count_notification", "count_report"]


async def count_ingest(event: MetricCollectedEvent, *, usage_meter: UsageMeter) -> None:
    """Points per series and minute (the ingest hot path: no I/O)."""
    usage_meter.count_points(event.project, event.series, event.columns().series_index)


async def count_notification(event: NotificationSentEvent, *, usage_meter: UsageMeter) -> None:
    """A delivered notification (retries and dead letters are not sent notifications)."""
    if event.state == "delivered":
        usage_meter.add(event.project, NOTIFICATIONS_SENT)


async def count_report(event: ReportGeneratedEvent, *, usage_meter: UsageMeter) -> None:
    if event.status == "ok":
        usage_meter.add(event.project, REPORTS_RENDERED)


async def count_analytics(event: AnalyticsCompletedEvent, *, usage_meter: UsageMeter) -> None:
    """A job's time in its worker process: one process runs one job at a time, so its
    duration is the CPU time it holds (an upper bound when it waits on the store)."""
    if event.duration_ms:
        usage_meter.add(event.project, ANALYTICS_CPU_SECONDS, event.duration_ms / 1000)
