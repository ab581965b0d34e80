"""What `complianceChecked` and `systemHealthChanged` subscribers receive."""

from __future__ import annotations

from datetime import datetime

import strawberry

from domain.compliance.events import ComplianceCheckedEvent
from domain.compliance.model import CheckStatus
from domain.system.events import SystemHealthChangedEvent
from schema.compliance.types import CheckOutcome, ControlStatus
from schema.scalars import JSONObject
from schema.types import from_us

__all__ = ["ComplianceChecked", "ComponentStatus", "SystemHealthChanged"]


@strawberry.type(description="A project's compliance checks ran (ComplianceCheckedEvent).")
class ComplianceChecked:
    project: str
    run: str
    status: ControlStatus  # type: ignore[valid-type]
    scheduled: bool
    at: datetime
    failing: list[str]
    results: list[CheckOutcome]

    @classmethod
    def of(cls, e: ComplianceCheckedEvent) -> ComplianceChecked:
        return cls(
            project=e.project,
            run=e.run,
            status=CheckStatus(e.status),
            scheduled=e.scheduled,
            at=from_us(e.at_us),
            failing=list(e.failing),
            results=[
                CheckOutcome(
                    check=str(r["check"]),
                    status=CheckStatus(r["status"]),
                    detail=str(r.get("detail", "")),
                    evidence=JSONObject(r.get("evidence") or {}),
                )
                for r in e.results
            ],
        )


@strawberry.type
class ComponentStatus:
    name: str
    status: str
    reason: str
    changed: bool


@strawberry.type(description="An instance's health moved (SystemHealthChangedEvent).")
class SystemHealthChanged:
    status: str
    previous_status: str
    instance: str
    at: datetime
    components: list[ComponentStatus]

    @classmethod
    def of(cls, e: SystemHealthChangedEvent) -> SystemHealthChanged:
        return cls(
            status=e.status,
            previous_status=e.previous_status,
            instance=e.instance,
            at=from_us(e.at_us),
            components=[
                ComponentStatus(
                    name=name,
                    status=status,
                    reason=e.reasons.get(name, ""),
                    changed=name in e.changed,
                )
                for name, status in sorted(e.components.items())
            ],
        )
