"""Notification types and inputs of the GraphQL schema (the RFC's NotificationDto)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from domain.notifications import ChannelKind, Delivery, DeliveryState, SilenceState
from domain.notifications.read_models import NotificationDto, PolicyView, SilenceView
from schema.scalars import JSONObject
from schema.types import from_us

__all__ = [
    "DeliveryAttempt",
    "NotificationChannel",
    "NotificationChannelInput",
    "NotificationChannelKind",
    "NotificationDelivery",
    "NotificationDeliveryState",
    "NotificationPolicy",
    "Silence",
    "SilenceStatus",
]

NotificationChannelKind = strawberry.enum(ChannelKind, name="NotificationChannelKind")
NotificationDeliveryState = strawberry.enum(
    DeliveryState,
    name="NotificationDeliveryState",
    description="PENDING: stored, waiting for its next attempt; DELIVERED; DEAD: every "
    "attempt failed or the receiver refused it for good (the dead-letter state).",
)
SilenceStatus = strawberry.enum(SilenceState, name="SilenceState")


@strawberry.input(
    description="A channel's fields. On update, fields left out (null) keep their value; "
    "`secret` is write-only: the webhook's HMAC key (24 bytes at least; left out of a new "
    "webhook, or given empty, Vigil generates one and answers it once in "
    "`generatedSecret`), or the SMTP password. `enabled: true` re-enables a channel Vigil "
    "disabled."
)
class NotificationChannelInput:
    name: str | None = None
    kind: NotificationChannelKind | None = None  # type: ignore[valid-type]
    url: str | None = None
    secret: str | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    starttls: bool | None = None
    smtp_username: str | None = None
    sender: str | None = None
    recipients: list[str] | None = None
    title_template: str | None = None
    body_template: str | None = None
    send_resolved: bool | None = None
    enabled: bool | None = None

    def to_spec(self) -> dict[str, Any]:
        spec = {k: v for k, v in vars(self).items() if v is not None}
        if "kind" in spec:
            spec["kind"] = spec["kind"].value
        return spec


@strawberry.type(
    name="Notification",
    description="A notification channel (the RFC's NotificationDto). Its secret is never "
    "shown: `hasSecret` says whether one is set; a Slack URL shows only its host.",
)
class NotificationChannel:
    id: strawberry.ID
    project: str
    name: str
    kind: NotificationChannelKind  # type: ignore[valid-type]
    url: str
    has_secret: bool
    smtp_host: str
    smtp_port: int
    starttls: bool
    smtp_username: str
    sender: str
    recipients: list[str]
    title_template: str
    body_template: str
    send_resolved: bool
    enabled: bool
    disabled_reason: str = strawberry.field(
        description="Why Vigil disabled this channel (its receiver answered 410 Gone); "
        "empty while enabled or when an admin disabled it."
    )
    disabled_at: datetime | None
    secret_rotation_ends_at: datetime | None = strawberry.field(
        description="Until when deliveries are also signed with the key a rotation "
        "replaced (null: the key was never rotated; a past time: the overlap is over)."
    )
    generated_secret: str | None = strawberry.field(
        description="The webhook key Vigil generated, in the answer of the change that "
        "generated it only: store it now, it is never shown again."
    )
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str

    @classmethod
    def of(cls, dto: NotificationDto) -> NotificationChannel:
        c = dto.channel
        return cls(
            id=strawberry.ID(c.id),
            project=c.project,
            name=c.name,
            kind=c.kind,
            url=dto.url,
            has_secret=dto.has_secret,
            smtp_host=c.smtp_host,
            smtp_port=c.smtp_port,
            starttls=c.starttls,
            smtp_username=c.smtp_username,
            sender=c.sender,
            recipients=list(c.recipients),
            title_template=c.title_template,
            body_template=c.body_template,
            send_resolved=c.send_resolved,
            enabled=c.enabled,
            disabled_reason=c.disabled_reason,
            disabled_at=from_us(c.disabled_at_us) if c.disabled_at_us else None,
            secret_rotation_ends_at=(
                from_us(c.previous_secret_until_us) if c.previous_secret else None
            ),
            generated_secret=dto.generated_secret or None,
            version=c.version,
            created_at=from_us(c.created_at_us),
            updated_at=from_us(c.updated_at_us),
            created_by=c.created_by,
        )


@strawberry.type(description="One attempt: status code, latency; never the answer's body.")
class DeliveryAttempt:
    at: datetime
    status_code: int | None
    latency_ms: float
    error: str


@strawberry.type(description="One message to one channel; `id` is its idempotency id.")
class NotificationDelivery:
    id: strawberry.ID
    project: str
    channel_id: strawberry.ID
    reason: str
    status: str
    title: str
    body: str
    state: NotificationDeliveryState  # type: ignore[valid-type]
    attempts: list[DeliveryAttempt]
    created_at: datetime
    next_attempt_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, d: Delivery) -> NotificationDelivery:
        pending = d.state is DeliveryState.PENDING
        return cls(
            id=strawberry.ID(d.id),
            project=d.project,
            channel_id=strawberry.ID(d.channel_id),
            reason=d.reason.value,
            status=d.message.status,
            title=d.message.title,
            body=d.message.body,
            state=d.state,
            attempts=[
                DeliveryAttempt(
                    at=from_us(a.at_us),
                    status_code=a.status_code,
                    latency_ms=a.latency_ms,
                    error=a.error,
                )
                for a in d.attempts
            ],
            created_at=from_us(d.created_us),
            next_attempt_at=from_us(d.next_attempt_us) if pending else None,
            finished_at=None if d.finished_us is None else from_us(d.finished_us),
        )


@strawberry.type(description="A silence: alerts matching every matcher are not notified.")
class Silence:
    id: strawberry.ID
    project: str
    matchers: list[str]
    starts_at: datetime
    ends_at: datetime
    state: SilenceStatus  # type: ignore[valid-type]
    created_by: str
    comment: str

    @classmethod
    def of(cls, view: SilenceView) -> Silence:
        s = view.silence
        return cls(
            id=strawberry.ID(s.id),
            project=s.project,
            matchers=list(s.to_dict()["matchers"]),
            starts_at=from_us(s.starts_us),
            ends_at=from_us(s.ends_us),
            state=view.state,
            created_by=s.created_by,
            comment=s.comment,
        )


@strawberry.type(description="The routing tree, inhibit rules and mute timings, as JSON.")
class NotificationPolicy:
    policy: JSONObject
    version: int
    default: bool = strawberry.field(
        description="True when no policy is stored: every enabled channel hears every alert."
    )

    @classmethod
    def of(cls, view: PolicyView) -> NotificationPolicy:
        return cls(policy=JSONObject(view.policy), version=view.version, default=view.default)
