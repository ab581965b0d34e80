"""Notification channels, deliveries and their attempts: the stored entities."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

__all__ = [
    "Attempt",
    "Channel",
    "ChannelKind",
    "Delivery",
    "DeliveryReason",
    "DeliveryState",
    "Message",
]


class ChannelKind(StrEnum):
    WEBHOOK = "webhook"  # JSON body, HMAC-SHA256 signed
    EMAIL = "email"  # SMTP, STARTTLS and auth configurable
    SLACK = "slack"  # a Slack-compatible incoming webhook; its URL is the secret


class DeliveryState(StrEnum):
    PENDING = "pending"  # stored, waiting for its next attempt
    DELIVERED = "delivered"
    DEAD = "dead"  # every attempt failed, or it cannot be sent: the dead-letter state


class DeliveryReason(StrEnum):
    NOTIFICATION = "notification"  # a route's group flushed
    ESCALATION = "escalation"  # an alert stayed unacknowledged past its route's delay
    TEST = "test"  # sendTestNotification
    REPORT = "report"  # a scheduled report's files (domain/reports/delivery.py)


@dataclass(frozen=True, slots=True)
class Channel:
    """Where notifications go. `secret` (the webhook's HMAC key or the SMTP password) and a
    Slack `url` are write-only: answers and logs never carry them. `previous_secret` is the
    webhook key a rotation replaced: deliveries are signed with it too until
    `previous_secret_until_us`. `disabled_reason` says why Vigil disabled the channel
    itself (its receiver answered 410 Gone); empty while it is enabled or an admin
    disabled it."""

    id: str
    project: str
    name: str
    kind: ChannelKind
    url: str = ""
    secret: str = ""
    smtp_host: str = ""
    smtp_port: int = 587
    starttls: bool = True
    smtp_username: str = ""
    sender: str = ""
    recipients: tuple[str, ...] = ()
    title_template: str = ""  # empty: the default title
    body_template: str = ""  # empty: the default body
    send_resolved: bool = True
    enabled: bool = True
    previous_secret: str = ""
    previous_secret_until_us: int = 0
    disabled_reason: str = ""
    disabled_at_us: int = 0
    version: int = 1
    created_at_us: int = 0
    updated_at_us: int = 0
    created_by: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["recipients"] = list(self.recipients)
        return data

    def signing_secrets(self, now_us: int) -> tuple[str, ...]:
        """The keys a delivery is signed with now: the current one, then the one a
        rotation replaced while its overlap lasts."""
        keys: tuple[str, ...] = (self.secret,) if self.secret else ()
        if self.previous_secret and now_us < self.previous_secret_until_us:
            keys += (self.previous_secret,)
        return keys

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Channel:
        return cls(
            **{
                **data,
                "kind": ChannelKind(data["kind"]),
                "recipients": tuple(data.get("recipients", ())),
            }
        )


@dataclass(frozen=True, slots=True)
class Message:
    """What a delivery sends, rendered once when it is stored so every retry is identical."""

    title: str
    body: str
    status: str  # "firing", "resolved" or "test"
    group_key: str = ""
    group_labels: dict[str, str] = field(default_factory=dict)
    alerts: tuple[dict[str, Any], ...] = ()
    # Files a report delivery carries (ReportAttachment.to_dict()): a signed link each,
    # and the content itself for email when `attach` (read from the store when sent).
    attachments: tuple[dict[str, Any], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["alerts"] = list(self.alerts)
        data["attachments"] = list(self.attachments)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        return cls(
            **{
                **data,
                "alerts": tuple(data.get("alerts", ())),
                "attachments": tuple(data.get("attachments", ())),
            }
        )


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try: the HTTP or SMTP status code, how long it took, and why it failed (never
    the receiver's answer body)."""

    at_us: int
    latency_ms: float
    status_code: int | None = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message to one channel. Its `id` is the idempotency id receivers see on every
    attempt. `claimed_by`/`claim_until_us` let one worker among several processes own it
    while it is being attempted."""

    id: str
    project: str
    channel_id: str
    reason: DeliveryReason
    message: Message
    created_us: int
    next_attempt_us: int
    state: DeliveryState = DeliveryState.PENDING
    attempts: tuple[Attempt, ...] = ()
    claimed_by: str = ""
    claim_until_us: int = 0
    finished_us: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "project": self.project,
            "channel_id": self.channel_id,
            "reason": self.reason.value,
            "message": self.message.to_dict(),
            "created_us": self.created_us,
            "next_attempt_us": self.next_attempt_us,
            "state": self.state.value,
            "attempts": [asdict(a) for a in self.attempts],
            "claimed_by": self.claimed_by,
            "claim_until_us": self.claim_until_us,
            "finished_us": self.finished_us,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Delivery:
        return cls(
            id=data["id"],
            project=data["project"],
            channel_id=data["channel_id"],
            reason=DeliveryReason(data["reason"]),
            message=Message.from_dict(data["message"]),
            created_us=data["created_us"],
            next_attempt_us=data["next_attempt_us"],
            state=DeliveryState(data["state"]),
            attempts=tuple(Attempt(**a) for a in data.get("attempts", ())),
            claimed_by=data.get("claimed_by", ""),
            claim_until_us=data.get("claim_until_us", 0),
            finished_us=data.get("finished_us"),
        )

    def after(self, attempt: Attempt, *, state: DeliveryState, next_attempt_us: int) -> Delivery:
        """This delivery with one more attempt recorded and its claim released."""
        finished = attempt.at_us if state is not DeliveryState.PENDING else None
        return replace(
            self,
            attempts=(*self.attempts, attempt),
            state=state,
            next_attempt_us=next_attempt_us,
            claimed_by="",
            claim_until_us=0,
            finished_us=finished,
        )
