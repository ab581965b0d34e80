"""Alert commands: the RFC's alert writes, each handled by domain/alerting/handlers.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from domain.alerting.rule import AlertRule
from domain.commands import Command

__all__ = [
    "AcknowledgeAlertCommand",
    "CreateAlertCommand",
    "CreateAlertFromTemplateCommand",
    "DeleteAlertCommand",
    "ResolveAlertCommand",
    "UpdateAlertCommand",
]

# The group-by tag values naming one alert instance, e.g. {"host": "web-1"}; None: every
# instance the command applies to.
InstanceTags = Mapping[str, str] | None


@dataclass(frozen=True, slots=True)
class CreateAlertCommand(Command):
    """`rule` is an AlertRule or its JSON form (AlertRule.to_dict); `actor` is its creator."""

    project: str
    rule: AlertRule | Mapping[str, Any]
    enabled: bool = True
    actor: str = ""


@dataclass(frozen=True, slots=True)
class CreateAlertFromTemplateCommand(Command):
    """A built-in template filled with `params` (defaults for those left out); `name`
    replaces the name the template gives."""

    project: str
    template: str
    params: Mapping[str, object] = field(default_factory=dict)
    name: str | None = None
    enabled: bool = True
    actor: str = ""


@dataclass(frozen=True, slots=True)
class UpdateAlertCommand(Command):
    """Change an alert made at `expected_version`; refused if it has changed since.

    `changes` may hold `rule` (an AlertRule, or rule fields in their JSON form laid over
    the current rule) and `enabled`.
    """

    project: str
    alert_id: str
    expected_version: int
    changes: Mapping[str, Any]
    actor: str = ""


@dataclass(frozen=True, slots=True)
class DeleteAlertCommand(Command):
    project: str
    alert_id: str
    actor: str = ""


@dataclass(frozen=True, slots=True)
class AcknowledgeAlertCommand(Command):
    """Acknowledge one instance, or every firing one; `until_us` None: until it resolves."""

    project: str
    alert_id: str
    instance: InstanceTags = None
    until_us: int | None = None
    comment: str = ""
    actor: str = ""


@dataclass(frozen=True, slots=True)
class ResolveAlertCommand(Command):
    """Resolve one instance by hand, or every one that is not OK or resolved."""

    project: str
    alert_id: str
    instance: InstanceTags = None
    comment: str = ""
    actor: str = ""
