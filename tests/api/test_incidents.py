"""Incidents through the real app: alerts that fire together and share tags (or a declared
dependency) grouped into one, its root candidate, acknowledged and resolved as a whole,
one notification per incident, and two rules on one series for one cause told once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

from domain.incidents.events import IncidentUpdatedEvent
from infra.notifications import DeliveryWorker
from tests.adjustable_clock import AdjustableClock
from tests.notifications_support import (
    CONFIGURE,
    CREATE_ALERT,
    CREATE_POINTS,
    DELIVERIES,
    POLICY,
    Receiver,
    receiver,
    webhook,
)
from tests.support import RunningVigil, make_settings, serve, token, ws_client

ADMIN = token(demo="admin")
INCIDENT_FIELDS = """id state title root { alertName tags } version
  members { alertName tags metric state duplicateOf severity }
  timeline { text by }"""
INCIDENTS = f"""query($p: String!, $state: IncidentState) {{
  incidents(project: $p, state: $state) {{ items {{ {INCIDENT_FIELDS} }}
    pageInfo {{ hasNextPage }} }} }}"""
INCIDENT = (
    f"""query($p: String!, $id: ID!) {{ incident(project: $p, id: $id) {{ {INCIDENT_FIELDS} }} }}"""
)
ACK = f"""mutation($p: String!, $id: ID!) {{
  acknowledgeIncident(project: $p, incidentId: $id, comment: "on it") {{ {INCIDENT_FIELDS} }} }}"""
RESOLVE = f"""mutation($p: String!, $id: ID!) {{
  resolveIncident(project: $p, incidentId: $id, comment: "fixed") {{ {INCIDENT_FIELDS} }} }}"""
SETTINGS = """mutation($p: String!, $s: IncidentSettingsInput!) {
  configureIncidents(project: $p, settings: $s) { window tags dependencyTag
    dependencies { service dependsOn } } }"""
UPDATED = """subscription($p: String!) { incidentUpdated(project: $p) {
  incidentId state title change members } }"""
ALERT = """query($p: String!, $id: ID!) { alert(project: $p, id: $id) { state
  instances { state acknowledgedBy } } }"""


@dataclass
class Rig:
    vigil: RunningVigil
    clock: AdjustableClock
    worker: DeliveryWorker
    hook: Receiver
    channel: str

    async def points(self, metric: str, value: float, **tags: str) -> None:
        raw = [{"name": metric, "value": value, "tags": tags}]
        await self.vigil.ok(CREATE_POINTS, {"p": "demo", "points": raw}, auth=ADMIN)

    async def alert(self, metric: str, name: str, threshold: float = 90, **tags: str) -> str:
        await self.points(metric, 0.0, **tags)  # the metric exists
        rule = {"name": name, "metric": metric, "threshold": threshold, "aggregation": "LAST",
                "groupBy": sorted(tags)}  # fmt: skip
        made = await self.vigil.ok(CREATE_ALERT, {"p": "demo", "rule": rule}, auth=ADMIN)
        found: str = made["createAlert"]["id"]
        return found

    async def incidents(
        self, count: int, state: str | None = None, members: int = 1
    ) -> list[dict[str, Any]]:
        """The incidents once `count` of them are stored, each with at least `members`
        members (within milliseconds: the grouping follows the alerts' events)."""
        for _ in range(200):
            found = await self.vigil.ok(INCIDENTS, {"p": "demo", "state": state}, auth=ADMIN)
            items: list[dict[str, Any]] = found["incidents"]["items"]
            if len(items) >= count and all(len(i["members"]) >= members for i in items):
                return items
            await asyncio.sleep(0.02)
        raise AssertionError(f"fewer than {count} incidents: {items}")

    async def settled(self, incident_id: str, **expected: Any) -> dict[str, Any]:
        for _ in range(200):
            got: dict[str, Any] = (
                await self.vigil.ok(INCIDENT, {"p": "demo", "id": incident_id}, auth=ADMIN)
            )["incident"]
            if all(got[k] == v for k, v in expected.items()):
                return got
            await asyncio.sleep(0.02)
        raise AssertionError(f"incident never reached {expected}: {got}")


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    settings = make_settings(
        tmp_path, notify_allow_loopback=True, notify_tick_seconds=3600, alert_tick_seconds=3600
    )
    clock = AdjustableClock()
    with receiver(tmp_path) as hook:
        async with serve(settings, notifications_clock=clock) as vigil:
            worker = vigil.app.state.vigil.runtimes.notifications.worker
            made = await vigil.ok(CONFIGURE, {"p": "demo", "c": webhook(hook.url)}, auth=ADMIN)
            channel = made["configureNotification"]["id"]
            yield Rig(vigil, clock, cast(DeliveryWorker, worker), hook, channel)


async def test_alerts_sharing_a_tag_form_one_incident_with_a_root(rig: Rig) -> None:
    await rig.alert("cpu", "cpu high", host="web-1")
    await rig.alert("errors", "errors high", host="web-1")
    await rig.alert("disk", "disk full", host="db-9")
    async with ws_client(rig.vigil.ws_url, token(demo="viewer")) as client:
        op = await client.subscribe(UPDATED, {"p": "demo"})
        await rig.vigil.listening(IncidentUpdatedEvent.channel_for("demo"))
        await rig.points("cpu", 95, host="web-1")
        opened = (await client.next_for(op))["payload"]["data"]["incidentUpdated"]
        await rig.points("errors", 99, host="web-1")
        joined = (await client.next_for(op))["payload"]["data"]["incidentUpdated"]
    assert (opened["change"], opened["state"], opened["members"]) == ("opened", "OPEN", 1)
    assert joined["incidentId"] == opened["incidentId"] and joined["members"] == 2
    assert joined["title"] == "cpu high on host=web-1 (+1 more)"
    await rig.points("disk", 97, host="db-9")  # shares no tag: an incident of its own
    (newest, first) = await rig.incidents(2)
    assert [m["alertName"] for m in first["members"]] == ["cpu high", "errors high"]
    assert first["root"] == {"alertName": "cpu high", "tags": {"host": "web-1"}}
    assert [m["alertName"] for m in newest["members"]] == ["disk full"]
    assert [t["text"] for t in first["timeline"]] == [
        "opened: cpu high fired on host=web-1",
        "errors high fired on host=web-1",
    ]


async def test_a_declared_dependency_groups_services_and_names_the_upstream_root(
    rig: Rig,
) -> None:
    settings = {"window": "10m", "dependencies": [{"service": "api", "dependsOn": "db"}]}
    done = await rig.vigil.ok(SETTINGS, {"p": "demo", "s": settings}, auth=ADMIN)
    assert done["configureIncidents"]["dependencies"] == [{"service": "api", "dependsOn": "db"}]
    await rig.alert("latency", "api slow", service="api")
    await rig.alert("connections", "db saturated", service="db")
    await rig.points("latency", 500, service="api")
    await rig.points("connections", 1000, service="db")  # fires later, but is upstream
    (incident,) = await rig.incidents(1, members=2)
    assert incident["root"] == {"alertName": "db saturated", "tags": {"service": "db"}}
    assert len(incident["members"]) == 2


async def test_acknowledge_and_resolve_the_whole_incident(rig: Rig) -> None:
    cpu = await rig.alert("cpu", "cpu high", host="web-1")
    errors = await rig.alert("errors", "errors high", host="web-1")
    await rig.points("cpu", 95, host="web-1")
    await rig.points("errors", 99, host="web-1")
    (incident,) = await rig.incidents(1, members=2)
    editor = token("erin", demo="editor")
    acked = await rig.vigil.ok(ACK, {"p": "demo", "id": incident["id"]}, auth=editor)
    assert acked["acknowledgeIncident"]["state"] == "ACKNOWLEDGED"
    for alert_id in (cpu, errors):
        got = (await rig.vigil.ok(ALERT, {"p": "demo", "id": alert_id}, auth=ADMIN))["alert"]
        assert got["instances"] == [{"state": "ACKNOWLEDGED", "acknowledgedBy": "erin"}]
    settled = await rig.settled(incident["id"], state="ACKNOWLEDGED")
    assert settled["timeline"][-1] == {"text": "incident acknowledged by erin", "by": "erin"}
    assert {m["state"] for m in settled["members"]} == {"ACKNOWLEDGED"}

    resolved = await rig.vigil.ok(RESOLVE, {"p": "demo", "id": incident["id"]}, auth=editor)
    assert resolved["resolveIncident"]["state"] == "RESOLVED"
    for alert_id in (cpu, errors):
        got = (await rig.vigil.ok(ALERT, {"p": "demo", "id": alert_id}, auth=ADMIN))["alert"]
        assert got["state"] == "RESOLVED"
    again = await rig.vigil.gql(RESOLVE, {"p": "demo", "id": incident["id"]}, auth=editor)
    assert again["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    viewer = await rig.vigil.gql(
        ACK, {"p": "demo", "id": incident["id"]}, auth=token(demo="viewer")
    )
    assert viewer["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    foreign = await rig.vigil.gql(
        INCIDENT, {"p": "other", "id": incident["id"]}, auth=token(other="admin")
    )
    assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_one_message_per_incident_and_a_duplicate_is_told_once(rig: Rig) -> None:
    policy = {"route": {"channels": [rig.channel], "group_by": ["incident"]}}
    await rig.vigil.ok(POLICY, {"p": "demo", "policy": policy}, auth=ADMIN)
    await rig.alert("cpu", "cpu high", host="web-1")
    await rig.alert("cpu", "cpu very high", threshold=80, host="web-1")  # same series, cause
    await rig.alert("errors", "errors high", host="web-1")
    await rig.points("cpu", 95, host="web-1")
    await rig.points("errors", 99, host="web-1")
    (incident,) = await rig.incidents(1, members=3)
    members = {m["alertName"]: m for m in incident["members"]}
    assert set(members) == {"cpu high", "cpu very high", "errors high"}
    duplicates = [m["alertName"] for m in incident["members"] if m["duplicateOf"]]
    assert len(duplicates) == 1 and duplicates[0] in ("cpu high", "cpu very high")

    before = await _deliveries(rig)
    rig.clock.advance(31)  # group_wait
    await rig.worker.tick()
    (message,) = [d for d in await _deliveries(rig) if d["id"] not in {b["id"] for b in before}]
    # Two alert names in one message: grouped by incident (by alertname they would be
    # two), and the duplicate is not in it.
    assert message["title"].startswith("[FIRING:2]")
    kept = ({"cpu high", "cpu very high"} - set(duplicates)).pop()
    assert f"FIRING {kept} host=web-1" in message["body"]
    assert "FIRING errors high host=web-1" in message["body"]
    assert f"FIRING {duplicates[0]} " not in message["body"]


async def _deliveries(rig: Rig) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await rig.vigil.ok(DELIVERIES, {"p": "demo"}, auth=ADMIN))[
        "notificationDeliveries"
    ]
    return found
