"""HTTP sends to checked addresses: webhook (JSON, HMAC-signed) and Slack-compatible.

The URL's host is resolved and checked by the TargetGuard; the request then goes to the
checked address with the original Host header and TLS server name, so certificates are
verified against the name and no second DNS answer is trusted. Redirects are not
followed, proxies from the environment are not used, and the receiver's answer body is
never read.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import orjson

from domain.errors import BadUserInput
from domain.notifications import Channel, ChannelKind, Delivery
from domain.ports import Clock
from infra.clock import SystemClock
from infra.notifications.guard import Address, TargetGuard
from infra.notifications.result import SendResult, retry_after_seconds

__all__ = ["HttpSender", "signature", "signatures", "webhook_body"]

USER_AGENT = "Vigil-Notifications/1"
_RETRYABLE = frozenset({408, 425, 429})


def webhook_body(channel: Channel, delivery: Delivery) -> bytes:
    """The JSON a webhook receives; the same bytes on every attempt."""
    message = delivery.message
    payload: dict[str, Any] = {
        "id": delivery.id,
        "project": delivery.project,
        "channel": {"id": channel.id, "name": channel.name},
        "reason": delivery.reason.value,
        "status": message.status,
        "title": message.title,
        "body": message.body,
        "group_key": message.group_key,
        "group_labels": message.group_labels,
        "alerts": list(message.alerts),
        "created_us": delivery.created_us,
    }
    if message.attachments:  # a report's files: signed download links
        payload["attachments"] = [
            {k: a[k] for k in ("run_id", "name", "media_type", "bytes", "url")}
            for a in message.attachments
        ]
    return orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)


def slack_body(delivery: Delivery) -> bytes:
    message = delivery.message
    return orjson.dumps({"text": f"*{message.title}*\n{message.body}".strip()})


def signature(secret: str, delivery_id: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over `<id>.<timestamp>.<body>`, hex, prefixed `sha256=`."""
    signed = f"{delivery_id}.{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signatures(keys: tuple[str, ...], delivery_id: str, timestamp: str, body: bytes) -> str:
    """The signature header: one signature per key, current key first, comma-separated
    (two during a key rotation's overlap, as Stripe does), so a receiver holding either key
    verifies the delivery."""
    return ",".join(signature(key, delivery_id, timestamp, body) for key in keys)


def _meaning(code: int) -> str:
    if 300 <= code < 400:
        return " (a redirect: not followed)"
    if code == 410:
        return " (gone: the channel is disabled)"
    return ""


def _pinned(url: str, address: Address) -> str:
    parts = urlsplit(url)
    host = f"[{address}]" if address.version == 6 else str(address)
    port = parts.port
    netloc = host if port is None else f"{host}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))


class HttpSender:
    def __init__(
        self,
        guard: TargetGuard,
        *,
        timeout: float,
        clock: Clock | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        """`verify`: the trust anchors for https targets (the public ones by default);
        `clock`: the one that dated a key rotation's overlap."""
        self._guard = guard
        self._clock = clock or SystemClock()
        # Requests are built by a client (timeouts, headers) and sent by the transport
        # itself: it follows no redirect, and unlike the client it logs no request line,
        # whose URL may be a credential (a Slack webhook's path).
        self._client = httpx.AsyncClient(timeout=timeout, trust_env=False)
        self._transport = httpx.AsyncHTTPTransport(verify=verify, trust_env=False)

    async def aclose(self) -> None:
        await self._transport.aclose()
        await self._client.aclose()

    async def send(self, channel: Channel, delivery: Delivery) -> SendResult:
        try:
            addresses = await self._guard.resolve(channel.url)
        except BadUserInput as exc:
            return SendResult(error=f"refused: {exc.message}", retryable=False)
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if channel.kind is ChannelKind.SLACK:
            body = slack_body(delivery)
        else:
            body = webhook_body(channel, delivery)
            timestamp = str(int(time.time()))
            headers |= {
                "X-Vigil-Delivery": delivery.id,
                "Idempotency-Key": delivery.id,
                "X-Vigil-Timestamp": timestamp,
            }
            keys = channel.signing_secrets(self._clock.now_us())
            if keys:
                headers["X-Vigil-Signature"] = signatures(keys, delivery.id, timestamp, body)
        parts = urlsplit(channel.url)
        headers["Host"] = parts.netloc.rsplit("@", 1)[-1]
        request = self._client.build_request(
            "POST",
            _pinned(channel.url, addresses[0]),
            content=body,
            headers=headers,
            extensions={"sni_hostname": parts.hostname or ""},
        )
        try:
            response = await self._transport.handle_async_request(request)
        except httpx.TimeoutException:
            return SendResult(error="timed out")
        except httpx.HTTPError as exc:
            return SendResult(error=f"connection failed ({type(exc).__name__})")
        await response.aclose()  # the answer's body is never read, stored or logged
        code = response.status_code
        if 200 <= code < 300:
            return SendResult(status_code=code)
        retryable = code >= 500 or code in _RETRYABLE
        return SendResult(
            status_code=code,
            error=f"HTTP {code}" + _meaning(code),
            retryable=retryable,
            retry_after=retry_after_seconds(response.headers.get("retry-after")),
        )
