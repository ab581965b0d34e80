"""Compliance events: the RFC's ComplianceCheckedEvent, and revocations for every instance."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from domain.events import Event

__all__ = ["AccessRevokedEvent", "ComplianceCheckedEvent"]


@dataclass(frozen=True, slots=True)
class ComplianceCheckedEvent(Event):
    """A project's checks ran (scheduled, exactly once across instances, or on demand).

    `results` holds each check as {check, status, detail, evidence}; `failing` the ids of
    the checks that failed."""

    project: str
    run: str  # the run's slot: the period of a scheduled run, unique for one on demand
    status: str  # pass or fail
    at_us: int
    results: list[dict[str, Any]] = field(default_factory=list)
    failing: list[str] = field(default_factory=list)
    scheduled: bool = True

    TOPIC: ClassVar[str] = "compliance"


@dataclass(frozen=True, slots=True)
class AccessRevokedEvent(Event):
    """A subject's or token's access to `in_project` was revoked (`revoked`), or restored.

    Every instance must hear every project's revocations, so the event belongs to Vigil's
    own project (`project`, the channel `revocations.system`), and names the tenant's."""

    in_project: str
    kind: str  # subject or token
    value: str
    at_us: int
    by: str
    revoked: bool = True
    project: str = "system"

    TOPIC: ClassVar[str] = "revocations"
