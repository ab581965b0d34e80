"""A webhook answering 410 Gone, through the real app and a real receiver (issue 12, item
14): the channel is disabled with its reason, admins hear it on a subscription, nothing
more is attempted, and enabling it again resumes delivery."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from domain.notifications.events import NotificationChannelDisabledEvent
from tests.notifications_support import TEST_SEND, receiver, webhook
from tests.support import RunningVigil, make_settings, serve, token, ws_client

ADMIN = token(demo="admin")
VIEWER = token(subject="val", demo="viewer")
CONFIGURE = """mutation($p: String!, $c: NotificationChannelInput, $id: ID) {
  configureNotification(project: $p, channel: $c, channelId: $id) {
    id enabled disabledReason disabledAt } }"""
READ = """query($p: String!, $id: ID!) { notification(project: $p, id: $id) {
  enabled disabledReason disabledAt } }"""
DELIVERY = """query($p: String!, $id: ID!) { notificationDelivery(project: $p, id: $id) {
  state attempts { statusCode error } } }"""
DISABLED = """subscription($p: String!) { notificationChannelDisabled(project: $p) {
  channelId channelName kind reason deliveryId at } }"""


async def delivery(vigil: RunningVigil, delivery_id: str, state: str) -> dict[str, Any]:
    """Poll until the delivery reaches `state` (retries come after ~the retry base)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found: dict[str, Any] = (
            await vigil.ok(DELIVERY, {"p": "demo", "id": delivery_id}, auth=ADMIN)
        )["notificationDelivery"]
        if found["state"] == state:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"delivery {delivery_id} never reached {state}")


async def test_a_410_disables_the_channel_tells_admins_and_stops_attempts(
    tmp_path: Path,
) -> None:
    # The first delivery meets a 500 and waits for its retry (2 s to 4 s with jitter);
    # meanwhile the second meets the 410, so the retry finds the channel disabled.
    settings = make_settings(
        tmp_path,
        notify_allow_loopback=True,
        notify_tick_seconds=0.05,
        notify_retry_base_seconds=4.0,
    )
    with receiver(tmp_path, "500,410") as target:
        async with serve(settings) as vigil:
            made = await vigil.ok(CONFIGURE, {"p": "demo", "c": webhook(target.url)}, auth=ADMIN)
            channel_id = made["configureNotification"]["id"]
            async with ws_client(vigil.ws_url, ADMIN) as ws:
                op = await ws.subscribe(DISABLED, {"p": "demo"})
                await vigil.listening(NotificationChannelDisabledEvent.channel_for("demo"))
                first = await vigil.ok(TEST_SEND, {"p": "demo", "id": channel_id}, auth=ADMIN)
                assert first["sendTestNotification"]["state"] == "PENDING"  # the 500
                gone = await vigil.ok(TEST_SEND, {"p": "demo", "id": channel_id}, auth=ADMIN)
                told = (await ws.next_for(op, timeout=10))["payload"]["data"]
            sent = gone["sendTestNotification"]
            assert sent["state"] == "DEAD"
            assert sent["attempts"][0]["statusCode"] == 410
            assert "gone" in sent["attempts"][0]["error"]

            event = told["notificationChannelDisabled"]
            assert event["channelId"] == channel_id and event["kind"] == "webhook"
            assert event["deliveryId"] == sent["id"] and "410 Gone" in event["reason"]
            state = (await vigil.ok(READ, {"p": "demo", "id": channel_id}, auth=ADMIN))[
                "notification"
            ]
            assert state["enabled"] is False and state["disabledAt"] is not None
            assert state["disabledReason"] == event["reason"]

            # The pending retry dies without an attempt, and so does a new send.
            retried = await delivery(vigil, first["sendTestNotification"]["id"], "DEAD")
            assert retried["attempts"][-1]["statusCode"] is None
            assert "the channel is disabled" in retried["attempts"][-1]["error"]
            again = await vigil.ok(TEST_SEND, {"p": "demo", "id": channel_id}, auth=ADMIN)
            assert again["sendTestNotification"]["state"] == "DEAD"
            assert len(target.requests()) == 2  # the 500 and the 410: nothing after

            # Viewers do not hear it; an admin enabling the channel clears the reason.
            async with ws_client(vigil.ws_url, VIEWER) as ws:
                op = await ws.subscribe(DISABLED, {"p": "demo"})
                refused = await ws.next_for(op)
                assert refused["type"] == "error"
            enabled = await vigil.ok(
                CONFIGURE, {"p": "demo", "id": channel_id, "c": {"enabled": True}}, auth=ADMIN
            )
            assert enabled["configureNotification"]["disabledReason"] == ""
            assert enabled["configureNotification"]["disabledAt"] is None
            back = await vigil.ok(TEST_SEND, {"p": "demo", "id": channel_id}, auth=ADMIN)
            assert back["sendTestNotification"]["state"] == "DELIVERED"
            assert len(target.requests()) == 3
