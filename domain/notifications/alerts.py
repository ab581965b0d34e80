"""What the router knows of each alert instance, built from the alert events."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from domain.alerting.events import AlertEvent

__all__ = ["AlertRecord", "iso"]


def iso(at_us: int | None) -> str | None:
    if at_us is None:
        return None
    return datetime.fromtimestamp(at_us / 1e6, UTC).isoformat().replace("+00:00", "Z")


@dataclass(slots=True)
class AlertRecord:
    """One alert instance as notifications see it (Alertmanager's alert): its labels are
    the instance's tags plus `alertname`, `alert_id` and `severity`."""

    project: str
    instance_id: str
    rule_id: str
    rule_name: str
    tags: dict[str, str]
    severity: str
    value: float | None
    threshold: float | None
    reason: str
    starts_us: int
    ends_us: int | None = None  # set once resolved
    acknowledged: bool = False
    extra: dict[str, str] = field(default_factory=dict)  # labels from elsewhere: `incident`

    @classmethod
    def of(cls, event: AlertEvent, **state: Any) -> AlertRecord:
        return cls(
            project=event.project,
            instance_id=event.instance_id,
            rule_id=event.rule_id,
            rule_name=event.rule_name,
            tags=dict(event.tags),
            **state,
        )

    @property
    def firing(self) -> bool:
        return self.ends_us is None

    @property
    def labels(self) -> dict[str, str]:
        return {
            **self.tags,
            **self.extra,
            "alertname": self.rule_name,
            "alert_id": self.rule_id,
            "severity": self.severity,
        }

    @property
    def fingerprint(self) -> str:
        """Changes with the severity, so a raised severity is news to the receivers."""
        return f"{self.instance_id}:{self.severity}"

    def summary(self) -> dict[str, Any]:
        """The alert as templates and webhook bodies see it."""
        return {
            "status": "firing" if self.firing else "resolved",
            "alertname": self.rule_name,
            "alert_id": self.rule_id,
            "instance_id": self.instance_id,
            "labels": self.labels,
            "tags": dict(self.tags),
            "severity": self.severity,
            "value": self.value,
            "threshold": self.threshold,
            "reason": self.reason,
            "acknowledged": self.acknowledged,
            "starts_at": iso(self.starts_us),
            "ends_at": iso(self.ends_us),
        }
