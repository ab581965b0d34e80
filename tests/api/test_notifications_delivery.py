"""Delivery through the real app to real receivers: retries with backoff and one
idempotency id, signatures, Retry-After, dead letters, email over a real SMTP server."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import socket
import time
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from domain.notifications.events import NotificationSentEvent
from tests.adjustable_clock import AdjustableClock
from tests.notifications_support import (
    CONFIGURE,
    DELIVERIES,
    HOOK_SECRET,
    TEST_SEND,
    receiver,
    webhook,
)
from tests.support import RunningVigil, make_settings, serve, token, ws_client

ADMIN = token(demo="admin")
SENT = """subscription($p: String!) { notificationSent(project: $p) {
  deliveryId channelName state attempt statusCode error } }"""


def settings(tmp_path: Path, **overrides: Any) -> Any:
    return make_settings(
        tmp_path,
        notify_allow_loopback=True,
        notify_tick_seconds=0.05,
        notify_retry_base_seconds=0.3,
        **overrides,
    )


async def channel(vigil: RunningVigil, spec: dict[str, Any]) -> str:
    made = await vigil.ok(CONFIGURE, {"p": "demo", "c": spec}, auth=ADMIN)
    found: str = made["configureNotification"]["id"]
    return found


async def wait_state(vigil: RunningVigil, state: str, timeout: float = 10) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = await vigil.ok(DELIVERIES, {"p": "demo", "state": state}, auth=ADMIN)
        if listed["notificationDeliveries"]:
            found: dict[str, Any] = listed["notificationDeliveries"][0]
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"no delivery reached {state}")


def signed(request: dict[str, Any], secret: str) -> bool:
    headers = request["headers"]
    text = f"{headers['X-Vigil-Delivery']}.{headers['X-Vigil-Timestamp']}.{request['body']}"
    expected = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Vigil-Signature"], f"sha256={expected}")


async def test_fails_twice_then_succeeds_three_attempts_one_id_signed_with_backoff(
    tmp_path: Path,
) -> None:
    with receiver(tmp_path, "500,503") as hook:
        async with serve(settings(tmp_path)) as vigil:
            channel_id = await channel(vigil, webhook(hook.url))
            async with ws_client(vigil.ws_url, ADMIN) as ws:
                op = await ws.subscribe(SENT, {"p": "demo"})
                await vigil.listening(NotificationSentEvent.channel_for("demo"))
                first = await vigil.ok(TEST_SEND, {"p": "demo", "id": channel_id}, auth=ADMIN)
                assert first["sendTestNotification"]["state"] == "PENDING"
                delivered = await wait_state(vigil, "DELIVERED")
                live = [(await ws.next_for(op))["payload"]["data"]["notificationSent"]]
                live += [(await ws.next_for(op))["payload"]["data"]["notificationSent"]]
                live += [(await ws.next_for(op))["payload"]["data"]["notificationSent"]]
        requests = hook.wait_for(3)
    assert len(requests) == 3
    ids = {r["headers"]["X-Vigil-Delivery"] for r in requests}
    assert ids == {delivered["id"]} == {r["headers"]["Idempotency-Key"] for r in requests}
    assert all(signed(r, HOOK_SECRET) for r in requests)
    assert not signed({**requests[0], "body": requests[0]["body"] + " "}, HOOK_SECRET)
    assert len({r["body"] for r in requests}) == 1  # the same body on every attempt
    # Backoff, by Vigil's own record of when each attempt started (the receiver's clock
    # would add its own scheduling delays on a loaded machine): base 0.3 s, doubling,
    # equal jitter, so at least 0.15 s then 0.3 s.
    starts = [datetime.fromisoformat(a["at"]) for a in delivered["attempts"]]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    assert gaps[0] >= 0.15 and gaps[1] >= 0.3, gaps
    assert [a["statusCode"] for a in delivered["attempts"]] == [500, 503, 200]
    assert all(a["latencyMs"] > 0 for a in delivered["attempts"])
    assert [(m["attempt"], m["state"]) for m in live] == [
        (1, "PENDING"),
        (2, "PENDING"),
        (3, "DELIVERED"),
    ]
    body = json.loads(requests[0]["body"])
    assert (body["id"], body["status"], body["reason"]) == (delivered["id"], "test", "test")


async def test_retry_after_is_honoured(tmp_path: Path) -> None:
    with receiver(tmp_path, "429/1") as hook:
        async with serve(settings(tmp_path)) as vigil:
            channel_id = await channel(vigil, webhook(hook.url))
            await vigil.ok(TEST_SEND, {"p": "demo", "id": channel_id}, auth=ADMIN)
            delivered = await wait_state(vigil, "DELIVERED")
        assert len(hook.wait_for(2)) == 2
    first, second = (datetime.fromisoformat(a["at"]) for a in delivered["attempts"])
    assert (second - first).total_seconds() >= 1.0


async def test_bounded_attempts_end_in_the_dead_letter_state(tmp_path: Path) -> None:
    clock = AdjustableClock()
    with receiver(tmp_path, "500,500,500,500") as hook:
        configured = settings(tmp_path, notify_max_attempts=3)
        async with serve(configured, notifications_clock=clock) as vigil:
            worker = vigil.app.state.vigil.runtimes.notifications.worker
            channel_id = await channel(vigil, webhook(hook.url))
            await vigil.ok(TEST_SEND, {"p": "demo", "id": channel_id}, auth=ADMIN)
            dead = await wait_state(vigil, "DEAD")
            # Past any backoff the policy could choose (its cap): a 4th attempt, had one
            # been scheduled, is due now. A tick of our own makes none, nor do the worker's
            # own ticks in the next four tick periods.
            clock.advance(configured.notify_retry_max_seconds)
            assert await worker.tick() == 0
            await asyncio.sleep(4 * configured.notify_tick_seconds)
            after = await wait_state(vigil, "DEAD")
        assert len(hook.requests()) == 3
    assert len(after["attempts"]) == 3
    assert [a["error"] for a in dead["attempts"]] == ["HTTP 500"] * 3
    assert dead["nextAttemptAt"] is None


async def test_a_client_error_is_not_retried_and_redirects_are_not_followed(
    tmp_path: Path,
) -> None:
    with receiver(tmp_path, "302") as hook:
        async with serve(settings(tmp_path)) as vigil:
            channel_id = await channel(vigil, webhook(hook.url))
            sent = await vigil.ok(TEST_SEND, {"p": "demo", "id": channel_id}, auth=ADMIN)
        assert len(hook.requests()) == 1
    delivery = sent["sendTestNotification"]
    assert delivery["state"] == "DEAD"
    assert "redirect" in delivery["attempts"][0]["error"]


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, _Inbox]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


async def test_email_reaches_a_real_smtp_server_with_the_rendered_subject_and_body(
    tmp_path: Path, smtp: tuple[int, _Inbox]
) -> None:
    port, inbox = smtp
    spec = {
        "name": "ops mail",
        "kind": "EMAIL",
        "smtpHost": "127.0.0.1",
        "smtpPort": port,
        "starttls": False,
        "sender": "vigil@example.com",
        "recipients": ["oncall@example.com", "lead@example.com"],
        "titleTemplate": (
            "{{ alerts[0].alertname }}\r\nBcc: attacker@example.com\n on {{ project }}"
        ),
        "bodyTemplate": "{% for a in alerts %}{{ a.alertname }}: {{ a.tags.source }}{% endfor %}",
    }
    async with serve(settings(tmp_path)) as vigil:
        channel_id = await channel(vigil, spec)
        sent = await vigil.ok(TEST_SEND, {"p": "demo", "id": channel_id}, auth=ADMIN)
    assert sent["sendTestNotification"]["state"] == "DELIVERED"
    ((sender, recipients, message),) = inbox.messages
    assert sender == "vigil@example.com"
    assert recipients == ["oncall@example.com", "lead@example.com"]
    assert message["Subject"] == "Test notification Bcc: attacker@example.com  on demo"
    assert message["Bcc"] is None  # the line break never reached the headers
    assert message.get_payload(decode=True).decode().strip() == "Test notification: vigil"
    assert message["X-Vigil-Delivery"] == sent["sendTestNotification"]["id"]
