"""Notification channels through the real app: CRUD, write-only secrets, admins only,
SSRF refusals, and test sends through the delivery path."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.notifications_support import CONFIGURE, DELIVERIES, TEST_SEND, receiver, webhook
from tests.support import RunningVigil, make_settings, serve, token

ADMIN = token(demo="admin")
GET = """query($p: String!, $id: ID!) { notification(project: $p, id: $id) {
  id name url hasSecret version } }"""
LIST = "query($p: String!) { notifications(project: $p) { id name kind } }"
SECRET = "s3cr3t-key-of-more-than-24-bytes"


@pytest.fixture
async def vigil(tmp_path: Path) -> AsyncIterator[RunningVigil]:
    settings = make_settings(tmp_path, notify_tick_seconds=3600, notify_retry_base_seconds=0.1)
    async with serve(settings) as running:
        yield running


def code(body: dict[str, Any]) -> str:
    found: str = body["errors"][0]["extensions"]["code"]
    return found


async def test_create_read_update_delete_and_the_secret_never_comes_back(
    vigil: RunningVigil,
) -> None:
    made = await vigil.gql(
        CONFIGURE, {"p": "demo", "c": webhook("https://8.8.8.8/hook")}, auth=ADMIN
    )
    channel = made["data"]["configureNotification"]
    assert (channel["kind"], channel["hasSecret"], channel["version"]) == ("WEBHOOK", True, 1)
    read = await vigil.ok(GET, {"p": "demo", "id": channel["id"]}, auth=ADMIN)
    assert read["notification"]["url"] == "https://8.8.8.8/hook"
    changed = await vigil.ok(
        CONFIGURE, {"p": "demo", "id": channel["id"], "v": 1, "c": {"name": "renamed"}}, auth=ADMIN
    )
    assert changed["configureNotification"]["version"] == 2
    assert changed["configureNotification"]["hasSecret"]  # kept without being resent
    stale = await vigil.gql(
        CONFIGURE, {"p": "demo", "id": channel["id"], "v": 1, "c": {"name": "x"}}, auth=ADMIN
    )
    assert code(stale) == "CONFLICT"
    slack = await vigil.ok(
        CONFIGURE,
        {
            "p": "demo",
            "c": {"name": "chat", "kind": "SLACK", "url": f"https://1.1.1.1/T0/{SECRET}"},
        },
        auth=ADMIN,
    )
    assert slack["configureNotification"]["url"] == "https://1.1.1.1/…"
    listed = await vigil.ok(LIST, {"p": "demo"}, auth=ADMIN)
    assert [c["name"] for c in listed["notifications"]] == ["renamed", "chat"]
    everything = json.dumps([made, read, changed, listed, slack])
    assert SECRET not in everything
    gone = await vigil.ok(CONFIGURE, {"p": "demo", "id": channel["id"], "d": True}, auth=ADMIN)
    assert gone["configureNotification"] is None
    assert code(await vigil.gql(GET, {"p": "demo", "id": channel["id"]}, auth=ADMIN)) == "NOT_FOUND"


async def test_only_admins_of_the_project(vigil: RunningVigil) -> None:
    made = await vigil.ok(CONFIGURE, {"p": "demo", "c": webhook("https://8.8.8.8/")}, auth=ADMIN)
    channel_id = made["configureNotification"]["id"]
    for auth in (token(demo="editor"), token(demo="viewer"), token(other="admin")):
        body = await vigil.gql(
            CONFIGURE, {"p": "demo", "c": webhook("https://8.8.8.8/")}, auth=auth
        )
        assert code(body) == "FORBIDDEN"
        assert code(await vigil.gql(GET, {"p": "demo", "id": channel_id}, auth=auth)) == "FORBIDDEN"
    foreign = await vigil.gql(GET, {"p": "other", "id": channel_id}, auth=token(other="admin"))
    assert code(foreign) == "NOT_FOUND"  # another project's id reads as a missing one


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8080/hook",
        "http://10.0.0.1/hook",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://2130706433/hook",
        "http://0x7f000001/hook",
        "http://127.1/hook",
        "http://[64:ff9b::a9fe:a9fe]/hook",
        "http://[::127.0.0.1]/hook",
        "http://[64:ff9b:1::a9fe:a9fe]/hook",
        "ftp://8.8.8.8/hook",
        "http://user:pw@8.8.8.8/hook",
    ],
)
async def test_private_loopback_and_metadata_targets_are_refused(
    vigil: RunningVigil, url: str
) -> None:
    body = await vigil.gql(CONFIGURE, {"p": "demo", "c": webhook(url)}, auth=ADMIN)
    assert code(body) == "BAD_USER_INPUT", body
    assert (await vigil.ok(LIST, {"p": "demo"}, auth=ADMIN))["notifications"] == []


async def test_bad_channels_are_refused_with_every_reason(vigil: RunningVigil) -> None:
    bad = {
        "name": "",
        "kind": "EMAIL",
        "smtpHost": "8.8.8.8",
        "sender": "not-an-address",
        "recipients": [],
        "titleTemplate": "{% if %}",
    }
    body = await vigil.gql(CONFIGURE, {"p": "demo", "c": bad}, auth=ADMIN)
    assert code(body) == "BAD_USER_INPUT"
    reasons = body["errors"][0]["extensions"]["errors"]
    assert any("name" in r for r in reasons) and any("recipients" in r for r in reasons)
    template = await vigil.gql(
        CONFIGURE, {"p": "demo", "c": webhook("https://8.8.8.8/", bodyTemplate="{{ x")}, auth=ADMIN
    )
    assert "not a valid template" in template["errors"][0]["message"]


async def test_the_dev_setting_lets_a_local_receiver_through_and_test_sends_use_it(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path, notify_allow_loopback=True, notify_tick_seconds=3600)
    with receiver(tmp_path) as hook:
        async with serve(settings) as vigil:
            made = await vigil.ok(CONFIGURE, {"p": "demo", "c": webhook(hook.url)}, auth=ADMIN)
            channel_id = made["configureNotification"]["id"]
            sent = await vigil.ok(TEST_SEND, {"p": "demo", "id": channel_id}, auth=ADMIN)
            delivery = sent["sendTestNotification"]
            assert (delivery["state"], delivery["status"]) == ("DELIVERED", "test")
            assert delivery["attempts"][0]["statusCode"] == 200
            (request,) = hook.wait_for(1)
            assert request["headers"]["X-Vigil-Delivery"] == delivery["id"]
            listed = await vigil.ok(DELIVERIES, {"p": "demo"}, auth=ADMIN)
            assert [d["id"] for d in listed["notificationDeliveries"]] == [delivery["id"]]
            assert "secret-answer" not in json.dumps(listed)  # the answer body is never kept
