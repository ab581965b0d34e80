"""Email over SMTP (stdlib smtplib, on a thread): STARTTLS and login as the channel says,
connected to the address the TargetGuard checked. A report delivery's files marked
`attach` are read from the store when sent (never kept in the delivery) and attached."""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
from collections.abc import Awaitable, Callable, Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from domain.errors import BadUserInput
from domain.notifications import Channel, Delivery
from domain.notifications.messages import one_line
from infra.notifications.guard import Address, TargetGuard
from infra.notifications.result import SendResult

__all__ = ["EmailSender", "FileLoader", "build_email"]

# (project, run id, file name) -> the file's bytes, None once it is gone (retention).
FileLoader = Callable[[str, str, str], Awaitable[bytes | None]]
Attached = tuple[str, str, bytes]  # name, media type, content


def build_email(
    channel: Channel, delivery: Delivery, files: Sequence[Attached] = ()
) -> EmailMessage:
    """Headers are built from one-line text only: no CR/LF can start another header."""
    message = EmailMessage()
    message["Subject"] = one_line(delivery.message.title) or "Vigil notification"
    message["From"] = one_line(channel.sender)
    message["To"] = ", ".join(one_line(r) for r in channel.recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=delivery.id, domain="vigil")
    message["X-Vigil-Delivery"] = delivery.id
    message.set_content(delivery.message.body or delivery.message.title)
    for name, media_type, content in files:
        maintype, _, subtype = media_type.partition("/")
        message.add_attachment(
            content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=one_line(name),
        )
    return message


class _PinnedSMTP(smtplib.SMTP):
    """Connects to the checked address while the server is still named by its host name
    (HELO, and the certificate check of STARTTLS)."""

    def __init__(self, address: Address, timeout: float) -> None:
        self._address = address
        super().__init__(timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection((str(self._address), port), timeout)


class EmailSender:
    def __init__(
        self, guard: TargetGuard, *, timeout: float, files: FileLoader | None = None
    ) -> None:
        self._guard = guard
        self._timeout = timeout
        self.files = files  # set once the report store exists (infra/reports/delivery.py)

    async def send(self, channel: Channel, delivery: Delivery) -> SendResult:
        try:
            addresses = await self._guard.resolve(channel.smtp_host)
        except BadUserInput as exc:
            return SendResult(error=f"refused: {exc.message}", retryable=False)
        email = build_email(channel, delivery, await self._attached(delivery))
        return await asyncio.to_thread(self._send, channel, addresses[0], email)

    def _send(self, channel: Channel, address: Address, email: EmailMessage) -> SendResult:
        try:
            with _PinnedSMTP(address, self._timeout) as smtp:
                smtp.connect(channel.smtp_host, channel.smtp_port)
                if channel.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if channel.smtp_username:
                    smtp.login(channel.smtp_username, channel.secret)
                refused = smtp.send_message(email)
        except smtplib.SMTPResponseException as exc:
            # 4xx: try again later; 5xx: the server will not take it.
            return SendResult(
                status_code=exc.smtp_code,
                error=f"SMTP {exc.smtp_code}",
                retryable=exc.smtp_code < 500,
            )
        except smtplib.SMTPRecipientsRefused:
            return SendResult(error="every recipient was refused", retryable=False)
        except smtplib.SMTPNotSupportedError:
            return SendResult(error="the server does not offer STARTTLS", retryable=False)
        except (OSError, smtplib.SMTPException) as exc:
            return SendResult(error=f"SMTP failed ({type(exc).__name__})")
        if refused:
            return SendResult(status_code=250, error=f"{len(refused)} recipients refused")
        return SendResult(status_code=250)

    async def _attached(self, delivery: Delivery) -> list[Attached]:
        found: list[Attached] = []
        wanted = [a for a in delivery.message.attachments if a.get("attach")]
        if not wanted or self.files is None:
            return found
        for a in wanted:
            content = await self.files(delivery.project, str(a["run_id"]), str(a["name"]))
            if content is not None:  # gone: the body's link says where it was
                found.append((str(a["name"]), str(a["media_type"]), content))
        return found
