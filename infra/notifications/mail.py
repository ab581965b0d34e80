"""Email over SMTP (stdlib smtplib, on a thread): STARTTLS and login as the channel says,
connected to the address the TargetGuard checked."""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from domain.errors import BadUserInput
from domain.notifications import Channel, Delivery
from domain.notifications.messages import one_line
from infra.notifications.guard import Address, TargetGuard
from infra.notifications.result import SendResult

__all__ = ["EmailSender", "build_email"]


def build_email(channel: Channel, delivery: Delivery) -> EmailMessage:
    """Headers are built from one-line text only: no CR/LF can start another header."""
    message = EmailMessage()
    message["Subject"] = one_line(delivery.message.title) or "Vigil notification"
    message["From"] = one_line(channel.sender)
    message["To"] = ", ".join(one_line(r) for r in channel.recipients)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=delivery.id, domain="vigil")
    message["X-Vigil-Delivery"] = delivery.id
    message.set_content(delivery.message.body or delivery.message.title)
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
    def __init__(self, guard: TargetGuard, *, timeout: float) -> None:
        self._guard = guard
        self._timeout = timeout

    async def send(self, channel: Channel, delivery: Delivery) -> SendResult:
        try:
            addresses = await self._guard.resolve(channel.smtp_host)
        except BadUserInput as exc:
            return SendResult(error=f"refused: {exc.message}", retryable=False)
        email = build_email(channel, delivery)
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
