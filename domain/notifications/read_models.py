"""What notification reads answer: channels without their secrets, policies, silences."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from domain.notifications.model import Channel, ChannelKind
from domain.notifications.silences import Silence, SilenceState

__all__ = ["NotificationDto", "PolicyView", "SilenceView"]


@dataclass(frozen=True, slots=True)
class NotificationDto:
    """A channel as the API shows it (the RFC's NotificationDto): `secret` is never here,
    only whether one is set; a Slack URL (its own credential) shows its host only. The one
    exception: `generated_secret`, the key Vigil generated for the webhook in the answer of
    the change that generated it (never stored in plain text, never shown again)."""

    channel: Channel
    has_secret: bool
    url: str
    generated_secret: str = ""

    @classmethod
    def of(cls, channel: Channel, *, generated_secret: str = "") -> NotificationDto:
        url = channel.url
        if channel.kind is ChannelKind.SLACK and url:
            parts = urlsplit(url)
            url = f"{parts.scheme}://{parts.hostname}/…"
        return cls(channel, bool(channel.secret), url, generated_secret)


@dataclass(frozen=True, slots=True)
class PolicyView:
    policy: dict[str, Any]
    version: int
    default: bool  # no policy stored: every enabled channel hears every alert


@dataclass(frozen=True, slots=True)
class SilenceView:
    silence: Silence
    state: SilenceState
