"""Alert events as subscribers receive them, built from the domain's alert events."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.alerting import AlertSeverity as DomainSeverity
from domain.alerting import events
from schema.alerts.inputs import AlertSeverity
from schema.scalars import Tags
from schema.types import from_us

__all__ = [
    "AlertAcknowledged",
    "AlertEvent",
    "AlertResolved",
    "AlertTriggered",
    "ThresholdExceeded",
]


def _severity(value: str | None) -> DomainSeverity | None:
    return None if value is None else DomainSeverity(value)


def _head(event: events.AlertEvent, at_us: int) -> dict[str, Any]:
    return {
        "project": event.project,
        "alert_id": strawberry.ID(event.rule_id),
        "alert_name": event.rule_name,
        "instance_id": event.instance_id,
        "tags": Tags(event.tags),
        "at": from_us(at_us),
    }


@strawberry.interface(description="What every alert event names: the alert and the instance.")
class AlertEvent:
    project: str
    alert_id: strawberry.ID
    alert_name: str
    instance_id: str
    tags: Tags = strawberry.field(description="The instance's group-by tags.")
    at: datetime


@strawberry.type(description="An instance started firing, or changed severity while firing.")
class AlertTriggered(AlertEvent):
    severity: AlertSeverity | None  # type: ignore[valid-type]
    value: float | None
    threshold: float | None
    reason: str
    notify: bool

    @classmethod
    def of(cls, e: events.AlertTriggeredEvent) -> AlertTriggered:
        return cls(
            **_head(e, e.at_us),
            severity=_severity(e.severity),
            value=e.value,
            threshold=e.threshold,
            reason=e.reason,
            notify=e.notify,
        )


@strawberry.type(description="An instance resolved: its condition cleared, or by hand.")
class AlertResolved(AlertEvent):
    value: float | None
    reason: str
    notify: bool
    by: str
    comment: str

    @classmethod
    def of(cls, e: events.AlertResolvedEvent) -> AlertResolved:
        return cls(
            **_head(e, e.at_us),
            value=e.value,
            reason=e.reason,
            notify=e.notify,
            by=e.by,
            comment=e.comment,
        )


@strawberry.type(description="The condition started holding (pending, or firing at once).")
class ThresholdExceeded(AlertEvent):
    value: float | None
    threshold: float | None
    condition: str
    severity: AlertSeverity | None  # type: ignore[valid-type]

    @classmethod
    def of(cls, e: events.ThresholdExceededEvent) -> ThresholdExceeded:
        return cls(
            **_head(e, e.at_us),
            value=e.value,
            threshold=e.threshold,
            condition=e.condition,
            severity=_severity(e.severity),
        )


@strawberry.type(description="Someone acknowledged a firing instance.")
class AlertAcknowledged(AlertEvent):
    by: str
    comment: str
    until: datetime | None

    @classmethod
    def of(cls, e: events.AlertAcknowledgedEvent) -> AlertAcknowledged:
        return cls(
            **_head(e, e.at_us),
            by=e.by,
            comment=e.comment,
            until=None if e.until_us is None else from_us(e.until_us),
        )
