"""A scheduled report's deliveries: one per recipient channel, through the notification
outbox (its retries, backoff and dead letters).

Email carries the files attached while they fit `attach_limit` bytes in all; a file above
it goes as a signed link instead, and the body says so. Slack and webhooks get signed
links (the webhook also as structured `attachments`). Each delivery's id is derived from
the run and the channel, so a receiver sees the same idempotency id on every attempt.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.notifications.model import Channel, ChannelKind, Delivery, DeliveryReason, Message
from domain.reports.schedule import zone

__all__ = ["ATTACH_LIMIT_BYTES", "FileRef", "ReportAttachment", "report_deliveries"]

ATTACH_LIMIT_BYTES = 10 * 1024 * 1024  # what mail servers commonly take, with encoding


@dataclass(frozen=True, slots=True)
class FileRef:
    name: str
    media_type: str
    size: int


@dataclass(frozen=True, slots=True)
class ReportAttachment:
    run_id: str
    name: str
    media_type: str
    size: int
    url: str  # a signed, short-lived download link
    attach: bool  # email: the content goes in the message

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "name": self.name,
            "media_type": self.media_type,
            "bytes": self.size,
            "url": self.url,
            "attach": self.attach,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReportAttachment:
        return cls(
            data["run_id"],
            data["name"],
            data["media_type"],
            int(data["bytes"]),
            data["url"],
            bool(data.get("attach")),
        )


def report_deliveries(
    *,
    project: str,
    title: str,
    run_id: str,
    slot_us: int,
    timezone: str,
    trigger: str,
    files: Sequence[FileRef],
    channels: Sequence[Channel],
    link: Callable[[str, str], str],  # (run id, file name) -> absolute signed URL
    now_us: int,
    attach_limit: int = ATTACH_LIMIT_BYTES,
) -> list[Delivery]:
    """One delivery per channel (disabled channels still get theirs: the worker records why
    it was not sent)."""
    when = datetime.fromtimestamp(slot_us / 1e6, UTC).astimezone(zone(timezone))
    lines = [f'The report "{title}" for {when:%Y-%m-%d %H:%M} ({timezone}) is ready.']
    if trigger == "catch_up":
        lines.append("Vigil was down at that time: this is the one catch-up run.")
    deliveries = []
    for channel in channels:
        attachments, notes = _attachments(channel, run_id, files, link, attach_limit)
        body = "\n".join(
            [*lines, "", *(_line(a) for a in attachments), *(["", *notes] if notes else [])]
        )
        message = Message(
            title=f"Report: {title}",
            body=body,
            status="report",
            group_key=f"report:{run_id}",
            attachments=tuple(a.to_dict() for a in attachments),
        )
        deliveries.append(
            Delivery(
                id=f"report-{run_id}-{channel.id}",
                project=project,
                channel_id=channel.id,
                reason=DeliveryReason.REPORT,
                message=message,
                created_us=now_us,
                next_attempt_us=now_us,
            )
        )
    return deliveries


def _attachments(
    channel: Channel,
    run_id: str,
    files: Sequence[FileRef],
    link: Callable[[str, str], str],
    limit: int,
) -> tuple[list[ReportAttachment], list[str]]:
    found, notes, room = [], [], limit
    for f in files:
        attach = channel.kind is ChannelKind.EMAIL and f.size <= room
        if attach:
            room -= f.size
        elif channel.kind is ChannelKind.EMAIL:
            notes.append(
                f"{f.name} ({_size(f.size)}) is above the {_size(limit)} attachment limit:"
                " it is not attached; download it from the link above."
            )
        found.append(
            ReportAttachment(run_id, f.name, f.media_type, f.size, link(run_id, f.name), attach)
        )
    return found, notes


def _line(a: ReportAttachment) -> str:
    return f"- {a.name} ({_size(a.size)}{', attached' if a.attach else ''}): {a.url}"


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} kB"
    return f"{n} bytes"
