"""Retention commands: a project's policy, and the legal hold that suspends deletion."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from domain.commands import Command
from domain.storage.retention.model import MetricOverride

__all__ = ["ReleaseLegalHoldCommand", "SetLegalHoldCommand", "SetRetentionPolicyCommand"]


@dataclass(frozen=True, slots=True)
class SetRetentionPolicyCommand(Command):
    """Replace the project's durations and overrides (a tier not given keeps its default);
    the legal hold is left as it is. `expected_version`: refuse if it changed since."""

    project: str
    keep_us: Mapping[str, int] = field(default_factory=dict)
    overrides: tuple[MetricOverride, ...] = ()
    expected_version: int | None = None
    actor: str = ""


@dataclass(frozen=True, slots=True)
class SetLegalHoldCommand(Command):
    project: str
    reason: str
    actor: str = ""


@dataclass(frozen=True, slots=True)
class ReleaseLegalHoldCommand(Command):
    project: str
    reason: str = ""
    actor: str = ""
