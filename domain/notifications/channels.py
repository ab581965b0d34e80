"""Channel specs: what `configureNotification` accepts, checked into a Channel."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from domain.errors import BadUserInput
from domain.notifications.model import Channel, ChannelKind

__all__ = ["MAX_TEMPLATE", "apply_spec", "check_header_text"]

MAX_NAME = 200
MAX_TEMPLATE = 10_000
MAX_SECRET = 1_024
MAX_RECIPIENTS = 50
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+")
_FIELDS = frozenset(
    {
        "name",
        "kind",
        "url",
        "secret",
        "smtp_host",
        "smtp_port",
        "starttls",
        "smtp_username",
        "sender",
        "recipients",
        "title_template",
        "body_template",
        "send_resolved",
        "enabled",
    }
)


def apply_spec(base: Channel, spec: Mapping[str, Any]) -> Channel:
    """`base` with the fields of `spec` laid over it (None: keep), checked as a whole.

    A secret left out keeps the stored one, so an update never needs to resend it.
    """
    unknown = sorted(set(spec) - _FIELDS)
    if unknown:
        raise BadUserInput(f"unknown channel fields {unknown}")
    changes = {k: v for k, v in spec.items() if v is not None}
    if "kind" in changes:
        changes["kind"] = _kind(changes["kind"])
    if "recipients" in changes:
        changes["recipients"] = tuple(changes["recipients"])
    channel = replace(base, **changes)
    _check(channel)
    return channel


def check_header_text(value: str, name: str) -> None:
    """Refuse text that could end an email header and start another."""
    if any(c in value for c in "\r\n\x00"):
        raise BadUserInput(f"{name} may not contain line breaks")


def _kind(value: object) -> ChannelKind:
    try:
        return ChannelKind(str(value).lower())
    except ValueError:
        raise BadUserInput(f"kind must be one of {[k.value for k in ChannelKind]}") from None


def _check(channel: Channel) -> None:
    errors: list[str] = []
    if not 1 <= len(channel.name.strip()) <= MAX_NAME:
        errors.append(f"name must hold 1 to {MAX_NAME} characters")
    if len(channel.secret) > MAX_SECRET:
        errors.append(f"secret holds at most {MAX_SECRET} characters")
    for name in ("title_template", "body_template"):
        if len(getattr(channel, name)) > MAX_TEMPLATE:
            errors.append(f"{name} holds at most {MAX_TEMPLATE} characters")
    if channel.kind in (ChannelKind.WEBHOOK, ChannelKind.SLACK):
        if not channel.url.lower().startswith(("http://", "https://")):
            errors.append("url must be an http:// or https:// URL")
    else:
        errors += _email_errors(channel)
    if errors:
        raise BadUserInput("; ".join(errors), errors=errors)


def _email_errors(channel: Channel) -> list[str]:
    errors: list[str] = []
    if not channel.smtp_host or any(c in channel.smtp_host for c in "/:@ \r\n"):
        errors.append("smtp_host must be a host name or address")
    if not 1 <= channel.smtp_port <= 65_535:
        errors.append("smtp_port must be between 1 and 65535")
    if not 1 <= len(channel.recipients) <= MAX_RECIPIENTS:
        errors.append(f"an email channel needs 1 to {MAX_RECIPIENTS} recipients")
    for address in (channel.sender, *channel.recipients):
        if not _ADDRESS.fullmatch(address):
            errors.append(f"{address!r} is not an email address")
    if any(c in channel.smtp_username for c in "\r\n\x00"):
        errors.append("smtp_username may not contain line breaks")
    return errors
