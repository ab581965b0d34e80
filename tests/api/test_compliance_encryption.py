"""Notification secrets at rest: sealed in the store (DuckDB, the MongoDB emulator), opened
only with the key, re-sealed by `vigil rotate-key`, and a store copied without the key
reveals none of them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import duckdb

from infra.compliance.rotate import rotate_key
from tests.api.test_notifications_delivery import signed
from tests.contract.mongo_emulator import _EMULATORS, open_mongo_emulated
from tests.notifications_support import CONFIGURE, TEST_SEND, receiver, webhook
from tests.support import SECRET, RunningVigil, make_settings, serve, token

ADMIN = token(demo="admin")
HOOK_SECRET = "s3cr3t-key-of-more-than-24-bytes"
SLACK_PATH = "T000/B000/slack-webhook-credential"
LIST = """query { notifications(project: "demo") { id hasSecret } }"""


def settings(tmp_path: Path, **overrides: Any) -> Any:
    return make_settings(
        tmp_path, notify_allow_loopback=True, notify_tick_seconds=0.05, **overrides
    )


async def channels(vigil: RunningVigil, url: str) -> str:
    hook = await vigil.ok(
        CONFIGURE, {"p": "demo", "c": webhook(url, secret=HOOK_SECRET)}, auth=ADMIN
    )
    slack = {"name": "chat", "kind": "SLACK", "url": url.replace("/hook", f"/{SLACK_PATH}")}
    await vigil.ok(CONFIGURE, {"p": "demo", "c": slack}, auth=ADMIN)
    channel_id: str = hook["configureNotification"]["id"]
    return channel_id


async def delivered_signed(vigil: RunningVigil, channel_id: str, hook: Any, count: int) -> None:
    """A test notification reaches the receiver signed with the secret as it was given."""
    await vigil.ok(TEST_SEND, {"p": "demo", "id": channel_id}, auth=ADMIN)
    assert signed(hook.wait_for(count)[-1], HOOK_SECRET)


def duckdb_docs(path: Path) -> list[dict[str, Any]]:
    with duckdb.connect(str(path)) as con:
        return [
            json.loads(d)
            for (d,) in con.execute("SELECT doc FROM notification_channels").fetchall()
        ]


def sealed_versions(docs: list[dict[str, Any]]) -> list[str]:
    text = json.dumps(docs)
    assert HOOK_SECRET not in text and SLACK_PATH not in text
    return sorted(
        value.split(":")[2]
        for doc in docs
        for value in (doc["secret"], doc["url"] if doc["kind"] == "slack" else "")
        if value
    )


def rotate_cli(tmp_path: Path, *flags: str) -> str:
    env = {
        **os.environ,
        "VIGIL_STORE_URL": f"duckdb:///{tmp_path}/vigil.duckdb",
        "VIGIL_SECRET": SECRET,
        "VIGIL_SECRET_FILE": f"{tmp_path}/secret.key",
    }
    done = subprocess.run(
        [sys.executable, "-m", "infra.cli", "rotate-key", *flags],
        env=env,
        capture_output=True,
        check=True,
        text=True,
    )
    return done.stdout.strip()


async def test_secrets_are_sealed_rotated_and_still_sign(tmp_path: Path) -> None:
    store = tmp_path / "vigil.duckdb"
    with receiver(tmp_path) as hook:
        async with serve(settings(tmp_path)) as vigil:
            channel_id = await channels(vigil, hook.url)
            await delivered_signed(vigil, channel_id, hook, 1)
        assert sealed_versions(duckdb_docs(store)) == ["1", "1"]
        assert HOOK_SECRET.encode() not in store.read_bytes()

        assert rotate_cli(tmp_path) == "key version 1 -> 2; 2 secrets sealed with version 2"
        assert sealed_versions(duckdb_docs(store)) == ["2", "2"]
        assert [
            line.split(":")[0] for line in (tmp_path / "encryption.keys").read_text().split()
        ] == ["1", "2"]
        async with serve(settings(tmp_path)) as vigil:
            await delivered_signed(vigil, channel_id, hook, 2)

        out = rotate_cli(tmp_path, "--reencrypt-only", "--drop-old")
        assert out == "key version 2 -> 2; 0 secrets sealed with version 2; dropped versions 1"
        assert (tmp_path / "encryption.keys").read_text().startswith("2:")
        async with serve(settings(tmp_path)) as vigil:
            await delivered_signed(vigil, channel_id, hook, 3)


async def test_a_store_copied_without_its_key_reveals_no_secret(tmp_path: Path) -> None:
    with receiver(tmp_path) as hook:
        async with serve(settings(tmp_path)) as vigil:
            channel_id = await channels(vigil, hook.url)
    elsewhere = tmp_path / "stolen"
    elsewhere.mkdir()
    shutil.copy(tmp_path / "vigil.duckdb", elsewhere / "vigil.duckdb")

    assert sealed_versions(duckdb_docs(elsewhere / "vigil.duckdb")) == ["1", "1"]
    async with serve(settings(elsewhere)) as thief:  # its own, new key file
        body = await thief.gql(TEST_SEND, {"p": "demo", "id": channel_id}, auth=ADMIN)
        listed = await thief.gql(LIST, auth=ADMIN)
    assert body["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert "does not open with this instance's key version 1" in body["errors"][0]["message"]
    assert listed["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
    assert HOOK_SECRET not in json.dumps([body, listed])


async def test_secrets_are_sealed_and_rotated_on_the_mongodb_emulator(tmp_path: Path) -> None:
    database = await open_mongo_emulated(tmp_path)
    raw = _EMULATORS[str(tmp_path)]._client["vigil"]["notification_channels"]
    try:
        with receiver(tmp_path) as hook:
            async with serve(settings(tmp_path), database=database) as vigil:
                channel_id = await channels(vigil, hook.url)
                assert sealed_versions(list(raw.find({}, {"_id": 0}))) == ["1", "1"]

                done = await rotate_key(settings(tmp_path), database=database)
                assert (done.previous_version, done.current_version, done.resealed) == (1, 2, 2)
                assert sealed_versions(list(raw.find({}, {"_id": 0}))) == ["2", "2"]
                # The running instance has not restarted: it reads the key file again.
                await delivered_signed(vigil, channel_id, hook, 1)
    finally:
        await database.close()
