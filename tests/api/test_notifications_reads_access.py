"""The notification reads that tell what happened and what is muted (`silences`,
`notificationPolicy`, `notificationDelivery`, `notificationDeliveries`): each project sees
only its own, a foreign id answers exactly as a missing one, and each read has its role."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.notifications_support import (
    CONFIGURE,
    EXPIRE,
    POLICY,
    SILENCE,
    TEST_SEND,
    receiver,
    webhook,
)
from tests.support import RunningVigil, make_settings, serve, token

ADMIN = token(demo="admin")
OTHER_ADMIN = token("olga", other="admin")
SILENCES = """query($p: String!, $expired: Boolean) {
  silences(project: $p, expired: $expired) { id state matchers createdBy } }"""
READ_POLICY = (
    """query($p: String!) { notificationPolicy(project: $p) { version default policy } }"""
)
DELIVERY = """query($p: String!, $id: ID!) {
  notificationDelivery(project: $p, id: $id) { id channelId state title } }"""
DELIVERIES = """query($p: String!) { notificationDeliveries(project: $p) { id } }"""
ROUTE = {"route": {"channels": [], "group_by": ["host"], "group_wait": "10s"}}


@dataclass
class Demo:
    vigil: RunningVigil
    silence: str
    delivery: str


@pytest.fixture
async def demo(tmp_path: Path) -> AsyncIterator[Demo]:
    """Project demo with a silence, a policy of its own and a delivery (a test send)."""
    settings = make_settings(tmp_path, notify_allow_loopback=True, notify_tick_seconds=0.05)
    with receiver(tmp_path) as hook:
        async with serve(settings) as vigil:
            made = await vigil.ok(CONFIGURE, {"p": "demo", "c": webhook(hook.url)}, auth=ADMIN)
            channel = made["configureNotification"]["id"]
            await vigil.ok(POLICY, {"p": "demo", "policy": _route(channel)}, auth=ADMIN)
            end = (datetime.now(UTC) + timedelta(days=1)).isoformat()
            variables = {"p": "demo", "m": ['host="web-1"'], "end": end}
            silence = (await vigil.ok(SILENCE, variables, auth=ADMIN))["createSilence"]["id"]
            sent = await vigil.ok(TEST_SEND, {"p": "demo", "id": channel}, auth=ADMIN)
            yield Demo(vigil, silence, sent["sendTestNotification"]["id"])


def _route(channel: str) -> dict[str, Any]:
    return {"route": ROUTE["route"] | {"channels": [channel]}}


def _same_message(one: dict[str, Any], one_id: str, two: dict[str, Any], two_id: str) -> bool:
    """The two refusals read alike once each names its id as <id>."""
    first: str = one["errors"][0]["message"].replace(one_id, "<id>")
    return first == two["errors"][0]["message"].replace(two_id, "<id>")


def code(body: dict[str, Any]) -> str:
    assert body.get("data") is None, body
    found: str = body["errors"][0]["extensions"]["code"]
    return found


async def test_silences_are_read_by_any_reader_of_their_project_only(demo: Demo) -> None:
    vigil = demo.vigil
    for role in ("viewer", "editor", "admin"):
        listed = await vigil.ok(SILENCES, {"p": "demo"}, auth=token(demo=role))
        assert [s["id"] for s in listed["silences"]] == [demo.silence]
    assert code(await vigil.gql(SILENCES, {"p": "demo"}, auth=token(demo="collector"))) == (
        "FORBIDDEN"
    )
    for auth in (OTHER_ADMIN, token(other="viewer")):
        assert code(await vigil.gql(SILENCES, {"p": "demo"}, auth=auth)) == "FORBIDDEN"
        for expired in (False, True):
            own = await vigil.ok(SILENCES, {"p": "other", "expired": expired}, auth=auth)
            assert own["silences"] == []

    # Expiring demo's silence from another project: as a missing id, and nothing changes.
    missing_id = "0" * len(demo.silence)
    foreign = await vigil.gql(EXPIRE, {"p": "other", "id": demo.silence}, auth=OTHER_ADMIN)
    missing = await vigil.gql(EXPIRE, {"p": "other", "id": missing_id}, auth=OTHER_ADMIN)
    assert code(foreign) == code(missing) == "NOT_FOUND"
    assert _same_message(foreign, demo.silence, missing, missing_id)
    listed = await vigil.ok(SILENCES, {"p": "demo"}, auth=ADMIN)
    assert [(s["id"], s["state"]) for s in listed["silences"]] == [(demo.silence, "ACTIVE")]


async def test_the_policy_is_read_by_admins_of_its_project_only(demo: Demo) -> None:
    vigil = demo.vigil
    mine = (await vigil.ok(READ_POLICY, {"p": "demo"}, auth=ADMIN))["notificationPolicy"]
    assert (mine["version"], mine["default"]) == (1, False)
    route = mine["policy"]["route"]
    assert (route["group_by"], route["group_wait"]) == (["host"], 10.0)
    for role in ("editor", "viewer", "collector"):
        refused = await vigil.gql(READ_POLICY, {"p": "demo"}, auth=token(demo=role))
        assert code(refused) == "FORBIDDEN"
    assert code(await vigil.gql(READ_POLICY, {"p": "demo"}, auth=OTHER_ADMIN)) == "FORBIDDEN"
    theirs = (await vigil.ok(READ_POLICY, {"p": "other"}, auth=OTHER_ADMIN))["notificationPolicy"]
    assert theirs["default"] is True  # other has none of its own: demo's is not shown to it
    assert theirs["policy"] != mine["policy"]
    assert route["channels"][0] not in json.dumps(theirs)


async def test_a_delivery_is_read_by_admins_of_its_project_and_a_foreign_id_is_missing(
    demo: Demo,
) -> None:
    vigil = demo.vigil
    read = await vigil.ok(DELIVERY, {"p": "demo", "id": demo.delivery}, auth=ADMIN)
    assert read["notificationDelivery"]["id"] == demo.delivery
    for role in ("editor", "viewer", "collector"):
        refused = await vigil.gql(
            DELIVERY, {"p": "demo", "id": demo.delivery}, auth=token(demo=role)
        )
        assert code(refused) == "FORBIDDEN"
        listed = await vigil.gql(DELIVERIES, {"p": "demo"}, auth=token(demo=role))
        assert code(listed) == "FORBIDDEN"
    named = await vigil.gql(DELIVERY, {"p": "demo", "id": demo.delivery}, auth=OTHER_ADMIN)
    assert code(named) == "FORBIDDEN"

    missing_id = "0" * len(demo.delivery)
    foreign = await vigil.gql(DELIVERY, {"p": "other", "id": demo.delivery}, auth=OTHER_ADMIN)
    missing = await vigil.gql(DELIVERY, {"p": "other", "id": missing_id}, auth=OTHER_ADMIN)
    assert code(foreign) == code(missing) == "NOT_FOUND"
    assert _same_message(foreign, demo.delivery, missing, missing_id)
    assert (await vigil.ok(DELIVERIES, {"p": "other"}, auth=OTHER_ADMIN)) == {
        "notificationDeliveries": []
    }
