"""Notification commands: channels (the RFC's ConfigureNotificationCommand), the routing
policy, silences and test sends; each handled in domain/notifications/handlers.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.commands import Command

__all__ = [
    "ConfigureNotificationCommand",
    "ConfigureNotificationPolicyCommand",
    "CreateSilenceCommand",
    "ExpireSilenceCommand",
    "SendTestNotificationCommand",
]


@dataclass(frozen=True, slots=True)
class ConfigureNotificationCommand(Command):
    """Create a channel (no `channel_id`), change one (`spec` fields laid over it, at
    `expected_version` if given), or delete one (`delete`)."""

    project: str
    channel_id: str | None = None
    spec: Mapping[str, Any] | None = None
    expected_version: int | None = None
    delete: bool = False
    actor: str = ""


@dataclass(frozen=True, slots=True)
class ConfigureNotificationPolicyCommand(Command):
    """Replace the project's policy (its JSON form); None goes back to the default."""

    project: str
    policy: Mapping[str, Any] | None
    actor: str = ""


@dataclass(frozen=True, slots=True)
class CreateSilenceCommand(Command):
    """`matchers` in Alertmanager's text form (`severity="critical"`); `starts_us` None: now."""

    project: str
    matchers: Sequence[str]
    ends_us: int
    starts_us: int | None = None
    comment: str = ""
    actor: str = ""


@dataclass(frozen=True, slots=True)
class ExpireSilenceCommand(Command):
    project: str
    silence_id: str
    actor: str = ""


@dataclass(frozen=True, slots=True)
class SendTestNotificationCommand(Command):
    """Store a test delivery for the channel and attempt it at once, as any delivery."""

    project: str
    channel_id: str
    actor: str = ""
