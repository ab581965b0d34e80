"""A scheduled report reaches its recipients through the notification outbox: a real SMTP
server gets the file attached (or, above the size cap, a link and a note saying why), a real
HTTP receiver gets a signed link that downloads the file."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.adjustable_clock import AdjustableClock
from tests.api.reports_support import ADMIN, create_report, send_cpu
from tests.api.test_reports_schedule import next_slot, scheduled, settings, wait_runs
from tests.notifications_support import CONFIGURE, HOOK_SECRET, receiver, webhook
from tests.support import RunningVigil, serve


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    async def wait(self, count: int = 1, timeout: float = 15) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count:
            assert time.monotonic() < deadline, f"{len(self.messages)} emails, wanted {count}"
            await asyncio.sleep(0.05)
        return self.messages


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


def email_channel(port: int) -> dict[str, Any]:
    return {
        "name": "report mail",
        "kind": "EMAIL",
        "smtpHost": "127.0.0.1",
        "smtpPort": port,
        "starttls": False,
        "sender": "vigil@example.com",
        "recipients": ["boss@example.com"],
    }


async def channel(vigil: RunningVigil, spec: dict[str, Any]) -> str:
    data = await vigil.ok(CONFIGURE, {"p": "demo", "c": spec}, auth=ADMIN)
    channel_id: str = data["configureNotification"]["id"]
    return channel_id


def delivery_settings(tmp_path: Path, **overrides: Any) -> Any:
    return settings(tmp_path, notify_allow_loopback=True, notify_tick_seconds=0.05, **overrides)


async def scheduled_run(
    vigil: RunningVigil, clock: AdjustableClock, recipients: list[str]
) -> dict[str, Any]:
    await send_cpu(vigil)
    report = await create_report(vigil, {**scheduled(), "recipients": recipients})
    clock.set(next_slot(clock.now_us()) + 2_000_000)
    [run] = await wait_runs(vigil, report["id"], 1)
    assert run["status"] == "ok"
    return run


async def test_email_gets_the_file_attached_and_a_webhook_a_link_that_downloads_it(
    tmp_path: Path, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    clock = AdjustableClock()
    with receiver(tmp_path) as hook:
        async with serve(delivery_settings(tmp_path), notifications_clock=clock) as vigil:
            mail_id = await channel(vigil, email_channel(port))
            hook_id = await channel(vigil, webhook(hook.url))
            run = await scheduled_run(vigil, clock, [mail_id, hook_id])
            [name] = [f["name"] for f in run["files"]]
            stored = await vigil.http.get(
                f"/reports/{run['id']}/{name}", headers={"Authorization": f"Bearer {ADMIN}"}
            )
            assert stored.status_code == 200

            [email] = await inbox.wait()
            [request] = await asyncio.to_thread(hook.wait_for, 1)
            body = json.loads(request["body"])
            link = body["attachments"][0]["url"]
            fetched = await vigil.http.get(link)  # no token: the signature is the credential

    assert email["Subject"] == "Report: Weekly CPU"
    [attached] = [part for part in email.walk() if part.get_filename()]
    assert attached.get_filename() == name
    assert attached.get_content_type() == stored.headers["content-type"].split(";")[0]
    assert attached.get_payload(decode=True) == stored.content
    plain = next(p for p in email.walk() if p.get_content_type() == "text/plain")
    text = plain.get_payload(decode=True).decode()
    assert f"- {name} (" in text and "attached): " in text

    assert body["reason"] == "report" and body["title"] == "Report: Weekly CPU"
    assert request["headers"]["Idempotency-Key"] == f"report-{run['id']}-{hook_id}"
    assert request["headers"]["X-Vigil-Signature"].startswith("sha256=")
    assert HOOK_SECRET not in request["body"]
    assert link.startswith(f"/reports/{run['id']}/{name}?exp=") and "&sig=" in link
    assert fetched.status_code == 200 and fetched.content == stored.content
    assert body["attachments"][0]["bytes"] == len(stored.content)


async def test_a_file_above_the_attachment_cap_goes_as_a_link_and_the_email_says_so(
    tmp_path: Path, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    clock = AdjustableClock()
    config = delivery_settings(tmp_path, report_attach_max_bytes=64, public_url="https://v.example")
    async with serve(config, notifications_clock=clock) as vigil:
        mail_id = await channel(vigil, email_channel(port))
        run = await scheduled_run(vigil, clock, [mail_id])
        [email] = await inbox.wait()
        [name] = [f["name"] for f in run["files"]]
        text = email.get_payload(decode=True).decode()
        link = next(w for w in text.split() if w.startswith("https://v.example/reports/"))
        fetched = await vigil.http.get(link.removeprefix("https://v.example"))

    assert not email.is_multipart()  # nothing attached
    assert f"{name} (" in text and "above the 64 bytes attachment limit" in text
    assert fetched.status_code == 200 and len(fetched.content) > 64


async def test_a_failed_webhook_delivery_is_retried_with_the_same_idempotency_key(
    tmp_path: Path,
) -> None:
    clock = AdjustableClock()
    config = delivery_settings(tmp_path, notify_retry_base_seconds=0.3)
    with receiver(tmp_path, plan="500") as hook:
        async with serve(config, notifications_clock=clock) as vigil:
            hook_id = await channel(vigil, webhook(hook.url))
            run = await scheduled_run(vigil, clock, [hook_id])
            first, second = await asyncio.to_thread(hook.wait_for, 2)
    keys = {r["headers"]["Idempotency-Key"] for r in (first, second)}
    assert keys == {f"report-{run['id']}-{hook_id}"}
    assert first["body"] == second["body"]  # rendered once, sent twice


async def test_slack_gets_a_signed_link_in_its_text_that_downloads_the_file(
    tmp_path: Path,
) -> None:
    clock = AdjustableClock()
    with receiver(tmp_path) as hook:
        async with serve(delivery_settings(tmp_path), notifications_clock=clock) as vigil:
            slack_id = await channel(vigil, {"name": "ops slack", "kind": "SLACK", "url": hook.url})
            run = await scheduled_run(vigil, clock, [slack_id])
            [name] = [f["name"] for f in run["files"]]
            [request] = await asyncio.to_thread(hook.wait_for, 1)
            text = json.loads(request["body"])["text"]
            found = re.search(r"(/reports/\S+\?exp=\d+&sig=[\w-]+)", text)
            assert found is not None, text
            fetched = await vigil.http.get(found.group(1))  # the signature is the credential
            stored = await vigil.http.get(
                f"/reports/{run['id']}/{name}", headers={"Authorization": f"Bearer {ADMIN}"}
            )

    assert text.startswith("*Report: Weekly CPU*")
    assert found.group(1).startswith(f"/reports/{run['id']}/{name}?")
    assert fetched.status_code == 200 and fetched.content == stored.content
    assert "X-Vigil-Signature" not in request["headers"]  # Slack's URL is the secret
