"""Anomaly subscription: `anomalies.<project>` on the bus, filtered per subscriber."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from domain.anomaly.events import AnomalyDetectedEvent
from schema.anomaly import AnomalyDetected
from schema.context import Info

__all__ = ["anomaly_detected"]


async def anomaly_detected(
    info: Info, project: str, metric: str | None = None, min_score: float = 0.0
) -> AsyncGenerator[AnomalyDetected, None]:
    """Each anomalous point as it is scored (before its ingest request is answered)."""
    events = info.context.subscriber.subscribe(AnomalyDetectedEvent.channel_for(project))
    try:
        async for event in events:
            if (
                isinstance(event, AnomalyDetectedEvent)
                and metric in (None, event.metric)
                and event.score >= min_score
            ):
                yield AnomalyDetected.of(event)
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
