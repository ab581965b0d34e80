"""Retention events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from domain.events import Event

__all__ = ["RetentionPolicyChangedEvent"]


@dataclass(frozen=True, slots=True)
class RetentionPolicyChangedEvent(Event):
    """A project's policy or legal hold changed: `policy` is RetentionPolicy.to_dict()."""

    TOPIC: ClassVar[str] = "retention"

    project: str
    policy: dict[str, Any]
