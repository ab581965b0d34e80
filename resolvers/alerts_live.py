"""Alert subscriptions: the events of `alerts.<project>` on the bus, each delivered at once
(alert events are rare: no coalescing)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import TypeVar

import strawberry

from domain.alerting.events import (
    AlertAcknowledgedEvent,
    AlertEvent,
    AlertResolvedEvent,
    AlertTriggeredEvent,
    ThresholdExceededEvent,
)
from schema.alerts import (
    AlertAcknowledged,
    AlertResolved,
    AlertSeverity,
    AlertTriggered,
    ThresholdExceeded,
)
from schema.context import Info

__all__ = ["alert_acknowledged", "alert_resolved", "alert_triggered", "threshold_exceeded"]


E = TypeVar("E", bound=AlertEvent)


async def _events(
    info: Info, project: str, kind: type[E], alert_id: strawberry.ID | None
) -> AsyncGenerator[E, None]:
    events = info.context.subscriber.subscribe(AlertEvent.channel_for(project))
    try:
        async for event in events:
            if isinstance(event, kind) and alert_id in (None, event.rule_id):
                yield event
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()


async def alert_triggered(
    info: Info,
    project: str,
    severity: AlertSeverity | None = None,  # type: ignore[valid-type]
    alert_id: strawberry.ID | None = None,
) -> AsyncGenerator[AlertTriggered, None]:
    """AlertTriggeredEvent: an instance fired (or changed severity while firing)."""
    wanted = None if severity is None else severity.value
    async for event in _events(info, project, AlertTriggeredEvent, alert_id):
        if wanted in (None, event.severity):
            yield AlertTriggered.of(event)


async def alert_resolved(
    info: Info, project: str, alert_id: strawberry.ID | None = None
) -> AsyncGenerator[AlertResolved, None]:
    async for event in _events(info, project, AlertResolvedEvent, alert_id):
        yield AlertResolved.of(event)


async def threshold_exceeded(
    info: Info, project: str, alert_id: strawberry.ID | None = None
) -> AsyncGenerator[ThresholdExceeded, None]:
    async for event in _events(info, project, ThresholdExceededEvent, alert_id):
        yield ThresholdExceeded.of(event)


async def alert_acknowledged(
    info: Info, project: str, alert_id: strawberry.ID | None = None
) -> AsyncGenerator[AlertAcknowledged, None]:
    async for event in _events(info, project, AlertAcknowledgedEvent, alert_id):
        yield AlertAcknowledged.of(event)
