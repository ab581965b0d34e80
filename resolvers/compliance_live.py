"""Compliance and health subscriptions: `complianceChecked` and `systemHealthChanged`."""

from __future__ import annotations

from collections.abc import AsyncGenerator

from domain.access import SYSTEM_PROJECT
from domain.compliance.events import ComplianceCheckedEvent
from domain.system.events import SystemHealthChangedEvent
from schema.compliance import ComplianceChecked, SystemHealthChanged
from schema.context import Info

__all__ = ["compliance_checked", "system_health_changed"]


async def compliance_checked(info: Info, project: str) -> AsyncGenerator[ComplianceChecked, None]:
    """ComplianceCheckedEvent: a run of the project's checks finished (scheduled daily,
    once across instances, or asked for)."""
    events = info.context.subscriber.subscribe(ComplianceCheckedEvent.channel_for(project))
    try:
        async for event in events:
            if isinstance(event, ComplianceCheckedEvent):
                yield ComplianceChecked.of(event)
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()


async def system_health_changed(
    info: Info, instance: str | None = None
) -> AsyncGenerator[SystemHealthChanged, None]:
    """SystemHealthChangedEvent: an instance's overall status or a component's status moved
    (store, event bus, notification delivery, disk, jobs), with the reasons."""
    events = info.context.subscriber.subscribe(SystemHealthChangedEvent.channel_for(SYSTEM_PROJECT))
    try:
        async for event in events:
            if isinstance(event, SystemHealthChangedEvent) and instance in (None, event.instance):
                yield SystemHealthChanged.of(event)
    finally:
        close = getattr(events, "aclose", None)
        if close is not None:
            await close()
