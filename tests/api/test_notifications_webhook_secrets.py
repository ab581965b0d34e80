"""Webhook keys through the real app (issue 12, item 13): short keys are refused, a missing
one is generated and answered once, and a rotation signs with both keys until its overlap
ends, checked on what a real local receiver got."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import duckdb

from tests.adjustable_clock import AdjustableClock
from tests.notifications_support import TEST_SEND, receiver
from tests.support import make_settings, serve, token

ADMIN = token(demo="admin")
OVERLAP_SECONDS = 3_600.0
CONFIGURE = """mutation($p: String!, $c: NotificationChannelInput, $id: ID) {
  configureNotification(project: $p, channel: $c, channelId: $id) {
    id hasSecret generatedSecret secretRotationEndsAt } }"""
READ = """query($p: String!, $id: ID!) { notification(project: $p, id: $id) {
  hasSecret generatedSecret secretRotationEndsAt } }"""
LIST = """query($p: String!) { notifications(project: $p) { id } }"""
OLD_KEY = "the-first-key-of-the-hook-32-byt"
NEW_KEY = "the-second-key-of-the-hook-32-by"


def hook(url: str, **fields: Any) -> dict[str, Any]:
    return {"name": "hook", "kind": "WEBHOOK", "url": url} | fields


def verifies(request: dict[str, Any], key: str) -> bool:
    """What a receiver does (docs/notifications.md): any one signature in the header made
    with its key, over `<delivery id>.<timestamp>.<raw body>`."""
    headers = request["headers"]
    signed = f"{headers['X-Vigil-Delivery']}.{headers['X-Vigil-Timestamp']}.{request['body']}"
    expected = "sha256=" + hmac.new(key.encode(), signed.encode(), hashlib.sha256).hexdigest()
    offered = [part.strip() for part in headers["X-Vigil-Signature"].split(",")]
    return any(hmac.compare_digest(expected, part) for part in offered)


async def test_short_keys_are_refused_and_change_nothing(tmp_path: Path) -> None:
    async with serve(make_settings(tmp_path)) as vigil:
        for key in ("k", "twelve-bytes", "x" * 23):
            body = await vigil.gql(
                CONFIGURE, {"p": "demo", "c": hook("https://8.8.8.8/h", secret=key)}, auth=ADMIN
            )
            assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
            assert "at least 24 bytes" in body["errors"][0]["message"]
        assert (await vigil.ok(LIST, {"p": "demo"}, auth=ADMIN))["notifications"] == []
        made = await vigil.ok(
            CONFIGURE, {"p": "demo", "c": hook("https://8.8.8.8/h", secret=OLD_KEY)}, auth=ADMIN
        )
        channel_id = made["configureNotification"]["id"]
        short = await vigil.gql(
            CONFIGURE, {"p": "demo", "id": channel_id, "c": {"secret": "short"}}, auth=ADMIN
        )
        assert short["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        read = await vigil.ok(READ, {"p": "demo", "id": channel_id}, auth=ADMIN)
        assert read["notification"]["secretRotationEndsAt"] is None  # the key is unchanged


async def test_a_missing_key_is_generated_shown_once_and_signs(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, notify_allow_loopback=True)
    with receiver(tmp_path) as target:
        async with serve(settings) as vigil:
            made = (await vigil.ok(CONFIGURE, {"p": "demo", "c": hook(target.url)}, auth=ADMIN))[
                "configureNotification"
            ]
            key = made["generatedSecret"]
            assert made["hasSecret"] and len(key.encode()) >= 32
            empty = await vigil.ok(
                CONFIGURE, {"p": "demo", "c": hook(target.url, secret="")}, auth=ADMIN
            )
            assert len(empty["configureNotification"]["generatedSecret"]) >= 32  # never "" kept
            read = await vigil.ok(READ, {"p": "demo", "id": made["id"]}, auth=ADMIN)
            assert read["notification"] == {
                "hasSecret": True,
                "generatedSecret": None,  # shown once, never again
                "secretRotationEndsAt": None,
            }
            await vigil.ok(TEST_SEND, {"p": "demo", "id": made["id"]}, auth=ADMIN)
            (request,) = target.wait_for(1)
            assert verifies(request, key)


async def test_a_rotation_signs_with_both_keys_until_the_overlap_ends(tmp_path: Path) -> None:
    clock = AdjustableClock()
    settings = make_settings(
        tmp_path, notify_allow_loopback=True, notify_secret_overlap_seconds=OVERLAP_SECONDS
    )
    with receiver(tmp_path) as target:
        async with serve(settings, notifications_clock=clock) as vigil:
            made = await vigil.ok(
                CONFIGURE, {"p": "demo", "c": hook(target.url, secret=OLD_KEY)}, auth=ADMIN
            )
            channel_id = made["configureNotification"]["id"]
            await vigil.ok(TEST_SEND, {"p": "demo", "id": channel_id}, auth=ADMIN)
            rotated = await vigil.ok(
                CONFIGURE, {"p": "demo", "id": channel_id, "c": {"secret": NEW_KEY}}, auth=ADMIN
            )
            assert rotated["configureNotification"]["secretRotationEndsAt"] is not None
            assert rotated["configureNotification"]["generatedSecret"] is None
            await vigil.ok(TEST_SEND, {"p": "demo", "id": channel_id}, auth=ADMIN)
            clock.advance(OVERLAP_SECONDS + 60)  # past the overlap, with a minute to spare
            await vigil.ok(TEST_SEND, {"p": "demo", "id": channel_id}, auth=ADMIN)
            before, during, after = target.wait_for(3)

    assert verifies(before, OLD_KEY) and not verifies(before, NEW_KEY)
    # During the overlap: two signatures, new key first; a receiver holding either verifies.
    assert len(during["headers"]["X-Vigil-Signature"].split(",")) == 2
    assert verifies(during, NEW_KEY) and verifies(during, OLD_KEY)
    tampered = {**during, "body": during["body"] + " "}
    assert not verifies(tampered, NEW_KEY) and not verifies(tampered, OLD_KEY)
    # After it: the new key only.
    assert verifies(after, NEW_KEY) and not verifies(after, OLD_KEY)
    assert "," not in after["headers"]["X-Vigil-Signature"]
    # At rest, the replaced key is sealed as the key is.
    with duckdb.connect(str(tmp_path / "vigil.duckdb")) as con:
        ((doc,),) = con.execute("SELECT doc FROM notification_channels").fetchall()
    assert OLD_KEY not in doc and NEW_KEY not in doc
    stored = json.loads(doc)
    assert stored["previous_secret"].startswith("vigil:sealed:")
    assert stored["secret"].startswith("vigil:sealed:")
