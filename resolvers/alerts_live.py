"""Alert subscriptions: the events of `alerts.<project>` on the bus, each delivered at once
(alert events are rare: no coalescing)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry

from schema.alerts import (
    AlertAcknowledged,
    AlertResolved,
    AlertSeverity,
    AlertTriggered,
    ThresholdExceeded,
)
from schema.context import Info

__all__ = ["alert_acknowledged", "alert_resolved", "alert_triggered", "threshold_exceeded"]


async def _events(
    info: Info, project: str, kind: str, alert_id: strawberry.ID | None
) -> AsyncGenerator[dict[str, Any], None]:
    messages = info.context.subscriber.subscribe(f"alerts.{project}")
    try:
        async for message in messages:
            if message.get("type") == kind and alert_id in (None, message.get("rule_id")):
                yield message
    finally:
        close = getattr(messages, "aclose", None)
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
    async for message in _events(info, project, "AlertTriggeredEvent", alert_id):
        if wanted in (None, message.get("severity")):
            yield AlertTriggered.of(message)


async def alert_resolved(
    info: Info, project: str, alert_id: strawberry.ID | None = None
) -> AsyncGenerator[AlertResolved, None]:
    async for message in _events(info, project, "AlertResolvedEvent", alert_id):
        yield AlertResolved.of(message)


async def threshold_exceeded(
    info: Info, project: str, alert_id: strawberry.ID | None = None
) -> AsyncGenerator[ThresholdExceeded, None]:
    async for message in _events(info, project, "ThresholdExceededEvent", alert_id):
        yield ThresholdExceeded.of(message)


async def alert_acknowledged(
    info: Info, project: str, alert_id: strawberry.ID | None = None
) -> AsyncGenerator[AlertAcknowledged, None]:
    async for message in _events(info, project, "AlertAcknowledgedEvent", alert_id):
        yield AlertAcknowledged.of(message)
