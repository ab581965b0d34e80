"""Alert events as subscribers receive them, built from the event-bus messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.alerting import AlertSeverity as DomainSeverity
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


def _severity(message: dict[str, Any]) -> DomainSeverity | None:
    value = message.get("severity")
    return None if value is None else DomainSeverity(value)


def _head(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "project": message["project"],
        "alert_id": strawberry.ID(message["rule_id"]),
        "alert_name": message["rule_name"],
        "instance_id": message["instance_id"],
        "tags": Tags(message["tags"]),
        "at": from_us(message["at_us"]),
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
    def of(cls, m: dict[str, Any]) -> AlertTriggered:
        return cls(
            **_head(m),
            severity=_severity(m),
            value=m["value"],
            threshold=m["threshold"],
            reason=m["reason"],
            notify=m["notify"],
        )


@strawberry.type(description="An instance resolved: its condition cleared, or by hand.")
class AlertResolved(AlertEvent):
    value: float | None
    reason: str
    notify: bool
    by: str
    comment: str

    @classmethod
    def of(cls, m: dict[str, Any]) -> AlertResolved:
        return cls(
            **_head(m),
            value=m["value"],
            reason=m["reason"],
            notify=m["notify"],
            by=m["by"],
            comment=m["comment"],
        )


@strawberry.type(description="The condition started holding (pending, or firing at once).")
class ThresholdExceeded(AlertEvent):
    value: float | None
    threshold: float | None
    condition: str
    severity: AlertSeverity | None  # type: ignore[valid-type]

    @classmethod
    def of(cls, m: dict[str, Any]) -> ThresholdExceeded:
        return cls(
            **_head(m),
            value=m["value"],
            threshold=m["threshold"],
            condition=m["condition"],
            severity=_severity(m),
        )


@strawberry.type(description="Someone acknowledged a firing instance.")
class AlertAcknowledged(AlertEvent):
    by: str
    comment: str
    until: datetime | None

    @classmethod
    def of(cls, m: dict[str, Any]) -> AlertAcknowledged:
        until = m["until_us"]
        return cls(
            **_head(m),
            by=m["by"],
            comment=m["comment"],
            until=None if until is None else from_us(until),
        )
