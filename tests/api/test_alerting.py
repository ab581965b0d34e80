"""Alerts through the real app: CRUD, validation, roles, tenancy, versions, preview, live."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from domain.alerting.events import AlertEvent
from tests.support import RunningVigil, make_settings, serve, token, ws_client

CREATE_POINTS = """mutation($p: String!, $points: PointBatch!) {
  createMetrics(project: $p, points: $points) { accepted } }"""
FIELDS = """id project name version enabled state severity createdBy updatedBy template
  rule { metric threshold condition aggregation window for keepFiringFor noDataAfter groupBy
         matchers { key op value } }
  instances { key state severity value since acknowledgedBy acknowledgedUntil }"""
CREATE = f"""mutation($p: String!, $rule: AlertRuleInput!) {{
  createAlert(project: $p, rule: $rule) {{ {FIELDS} }} }}"""
UPDATE = f"""mutation($p: String!, $id: ID!, $v: Int!, $rule: AlertRuleInput, $on: Boolean) {{
  updateAlert(project: $p, alertId: $id, expectedVersion: $v, rule: $rule, enabled: $on)
  {{ {FIELDS} }} }}"""
GET = f"""query($p: String!, $id: ID!) {{ alert(project: $p, id: $id) {{ {FIELDS}
  history {{ from to reason by comment }} }} }}"""
LIST = """query($p: String!, $state: AlertState) {
  alerts(project: $p, state: $state) { items { id state } pageInfo { hasNextPage } } }"""
DELETE = "mutation($p: String!, $id: ID!) { deleteAlert(project: $p, alertId: $id) }"
ACK = """mutation($p: String!, $id: ID!, $until: DateTime) {
  acknowledgeAlert(project: $p, alertId: $id, until: $until, comment: "looking") {
    state instances { state acknowledgedBy acknowledgedUntil } } }"""
RESOLVE = """mutation($p: String!, $id: ID!, $i: Tags) {
  resolveAlert(project: $p, alertId: $id, instance: $i, comment: "fixed") {
    state instances { key state } } }"""
TRIGGERED = """subscription($p: String!) { alertTriggered(project: $p) {
  project alertId alertName tags severity value threshold reason } }"""
RULE: dict[str, Any] = {
    "name": "cpu high",
    "metric": "cpu",
    "threshold": 90,
    "aggregation": "LAST",
    "window": "5m",
    "groupBy": ["host"],
}
ADMIN = token(demo="admin")


@pytest.fixture
async def vigil(tmp_path: Path) -> AsyncIterator[RunningVigil]:
    # Points drive every evaluation here; a tick could re-fire a hand-resolved instance
    # whose condition still holds (as documented) in the middle of a test.
    async with serve(make_settings(tmp_path, alert_tick_seconds=3600)) as running:
        await send(running, ("web-1", 10.0))  # the metric exists in demo
        yield running


async def send(vigil: RunningVigil, *points: tuple[str, float], project: str = "demo") -> None:
    raw = [{"name": "cpu", "value": v, "tags": {"host": h}} for h, v in points]
    await vigil.ok(CREATE_POINTS, {"p": project, "points": raw}, auth=token(**{project: "admin"}))


async def create(vigil: RunningVigil, auth: str = ADMIN, **rule: Any) -> dict[str, Any]:
    data = await vigil.ok(CREATE, {"p": "demo", "rule": RULE | rule}, auth=auth)
    alert: dict[str, Any] = data["createAlert"]
    return alert


def error(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("data") in (None, {}) or body["errors"], body
    first: dict[str, Any] = body["errors"][0]
    return first


async def test_create_read_update_delete(vigil: RunningVigil) -> None:
    editor = token("erin", demo="editor")
    alert = await create(vigil, editor, **{"for": 30, "keepFiringFor": "1m"})
    assert alert["version"] == 1 and alert["createdBy"] == "erin"
    assert (alert["state"], alert["severity"], alert["instances"]) == ("OK", "CRITICAL", [])
    assert alert["rule"] | {"matchers": None} == {
        "metric": "cpu",
        "threshold": 90.0,
        "condition": "GT",
        "aggregation": "LAST",
        "window": 300.0,
        "for": 30.0,
        "keepFiringFor": 60.0,
        "noDataAfter": 300.0,
        "groupBy": ["host"],
        "matchers": None,
    }
    got = await vigil.ok(GET, {"p": "demo", "id": alert["id"]}, auth=token(demo="viewer"))
    assert got["alert"]["name"] == "cpu high"

    changed = await vigil.ok(
        UPDATE,
        {"p": "demo", "id": alert["id"], "v": 1, "rule": RULE | {"threshold": 50}},
        auth=editor,
    )
    assert changed["updateAlert"]["version"] == 2
    assert changed["updateAlert"]["rule"]["threshold"] == 50.0
    off = await vigil.ok(UPDATE, {"p": "demo", "id": alert["id"], "v": 2, "on": False}, auth=editor)
    assert (off["updateAlert"]["enabled"], off["updateAlert"]["version"]) == (False, 3)

    listed = await vigil.ok(LIST, {"p": "demo"}, auth=editor)
    assert [a["id"] for a in listed["alerts"]["items"]] == [alert["id"]]
    assert (await vigil.ok(DELETE, {"p": "demo", "id": alert["id"]}, auth=editor))["deleteAlert"]
    gone = await vigil.gql(GET, {"p": "demo", "id": alert["id"]}, auth=editor)
    assert error(gone)["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"metric": "nope"}, "unknown metric 'nope'"),
        ({"window": "5x"}, "window '5x' is not a duration"),
        ({"window": -5}, "window must be between 0 and 366 days"),
        ({"recoveryThreshold": 95}, "recovery threshold must be below"),
        ({"matchers": [{"key": "host", "op": "REGEX", "value": "("}]}, "invalid regex"),
        ({"for": "40d"}, "longer than the retention"),
        ({"groupBy": ["bad key"]}, "not a valid tag key"),
        ({"condition": "ABOUT"}, "ABOUT"),
    ],
)
async def test_a_bad_rule_is_refused_with_a_code_and_nothing_is_saved(
    vigil: RunningVigil, rule: dict[str, Any], message: str
) -> None:
    body = await vigil.gql(CREATE, {"p": "demo", "rule": RULE | rule}, auth=ADMIN)

    first = error(body)
    assert first["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in first["message"]
    assert (await vigil.ok(LIST, {"p": "demo"}, auth=ADMIN))["alerts"]["items"] == []


async def test_roles(vigil: RunningVigil) -> None:
    viewer, collector = token(demo="viewer"), token(demo="collector")
    denied = await vigil.gql(CREATE, {"p": "demo", "rule": RULE}, auth=viewer)
    assert error(denied)["extensions"]["code"] == "FORBIDDEN"
    alert = await create(vigil)
    for query, variables in (
        (ACK, {"p": "demo", "id": alert["id"]}),
        (RESOLVE, {"p": "demo", "id": alert["id"]}),
        (DELETE, {"p": "demo", "id": alert["id"]}),
        (UPDATE, {"p": "demo", "id": alert["id"], "v": 1, "on": False}),
    ):
        assert error(await vigil.gql(query, variables, auth=viewer))["extensions"]["code"] == (
            "FORBIDDEN"
        )
    assert (await vigil.ok(LIST, {"p": "demo"}, auth=viewer))["alerts"]["items"]
    read = await vigil.gql(LIST, {"p": "demo"}, auth=collector)
    assert error(read)["extensions"]["code"] == "FORBIDDEN"
    assert (await vigil.ok("{ alertTemplates { name } }", auth=viewer))["alertTemplates"]


async def test_a_foreign_id_answers_exactly_as_a_missing_one(vigil: RunningVigil) -> None:
    alert = await create(vigil)
    other = token(other="admin")
    foreign = error(await vigil.gql(GET, {"p": "other", "id": alert["id"]}, auth=other))
    missing = error(await vigil.gql(GET, {"p": "other", "id": "0" * 32}, auth=other))
    assert foreign["extensions"]["code"] == missing["extensions"]["code"] == "NOT_FOUND"
    assert foreign["message"].replace(alert["id"], "<id>") == missing["message"].replace(
        "0" * 32, "<id>"
    )
    for query in (DELETE, ACK, RESOLVE):
        body = await vigil.gql(query, {"p": "other", "id": alert["id"]}, auth=other)
        assert error(body)["extensions"]["code"] == "NOT_FOUND"
    named = await vigil.gql(GET, {"p": "demo", "id": alert["id"]}, auth=other)
    assert error(named)["extensions"]["code"] == "FORBIDDEN"


async def test_a_stale_version_is_a_conflict_and_changes_nothing(vigil: RunningVigil) -> None:
    alert = await create(vigil)
    first = {"p": "demo", "id": alert["id"], "v": 1, "rule": RULE | {"threshold": 70}}
    await vigil.ok(UPDATE, first, auth=ADMIN)

    stale = error(await vigil.gql(UPDATE, first | {"rule": RULE | {"threshold": 10}}, auth=ADMIN))

    assert stale["extensions"]["code"] == "CONFLICT"
    assert stale["extensions"]["current_version"] == 2
    assert "changed by someone else (version 2); reload and retry" in stale["message"]
    now = await vigil.ok(GET, {"p": "demo", "id": alert["id"]}, auth=ADMIN)
    assert (now["alert"]["version"], now["alert"]["rule"]["threshold"]) == (2, 70.0)


async def test_fire_acknowledge_resolve_with_history(vigil: RunningVigil) -> None:
    alert = await create(vigil)
    async with ws_client(vigil.ws_url, token(demo="viewer")) as client:
        op = await client.subscribe(TRIGGERED, {"p": "demo"})
        await vigil.listening(AlertEvent.channel_for("demo"))
        await send(vigil, ("web-1", 95.0))
        message = await client.next_for(op)
    assert message["payload"]["data"]["alertTriggered"] == {
        "project": "demo",
        "alertId": alert["id"],
        "alertName": "cpu high",
        "tags": {"host": "web-1"},
        "severity": "CRITICAL",
        "value": 95.0,
        "threshold": 90.0,
        "reason": "threshold crossed",
    }

    until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    acked = await vigil.ok(ACK, {"p": "demo", "id": alert["id"], "until": until}, auth=ADMIN)
    assert acked["acknowledgeAlert"]["state"] == "ACKNOWLEDGED"
    assert acked["acknowledgeAlert"]["instances"][0]["acknowledgedBy"] == "alice"
    resolved = await vigil.ok(
        RESOLVE, {"p": "demo", "id": alert["id"], "i": {"host": "web-1"}}, auth=ADMIN
    )
    assert resolved["resolveAlert"]["instances"] == [
        {"key": {"host": "web-1"}, "state": "RESOLVED"}
    ]
    again = error(await vigil.gql(RESOLVE, {"p": "demo", "id": alert["id"]}, auth=ADMIN))
    assert (again["extensions"]["code"], again["message"]) == (
        "BAD_USER_INPUT",
        "nothing to resolve: every instance is OK or resolved",
    )
    history = (await vigil.ok(GET, {"p": "demo", "id": alert["id"]}, auth=ADMIN))["alert"]
    assert [(h["from"], h["to"], h["by"]) for h in history["history"]] == [
        ("ACKNOWLEDGED", "RESOLVED", "alice"),
        ("FIRING", "ACKNOWLEDGED", "alice"),
        ("OK", "FIRING", ""),
    ]


async def test_preview_replays_history(vigil: RunningVigil) -> None:
    now_ms = int(time.time() * 1000)
    raw = [
        {"name": "cpu", "value": v, "tags": {"host": "web-2"}, "timestamp": now_ms - ago * 1000}
        for ago, v in ((300, 50.0), (240, 95.0), (180, 96.0), (120, 97.0), (60, 20.0))
    ]
    await vigil.ok(CREATE_POINTS, {"p": "demo", "points": raw}, auth=ADMIN)
    query = """query($p: String!, $rule: AlertRuleInput!, $from: DateTime!) {
      previewAlert(project: $p, rule: $rule, from: $from, step: "10s") {
        points transitions { instance from to reason } notifications { to } } }"""
    start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now_ms / 1000 - 310))

    data = await vigil.ok(
        query,
        {
            "p": "demo",
            "rule": RULE | {"for": "90s", "matchers": [{"key": "host", "value": "web-2"}]},
            "from": start,
        },
        auth=token(demo="viewer"),
    )

    preview = data["previewAlert"]
    assert preview["points"] == 5
    assert [(t["from"], t["to"]) for t in preview["transitions"]] == [
        ("OK", "PENDING"),
        ("PENDING", "FIRING"),
        ("FIRING", "RESOLVED"),
    ]
    assert [n["to"] for n in preview["notifications"]] == ["FIRING", "RESOLVED"]
    assert (await vigil.ok(LIST, {"p": "demo"}, auth=ADMIN))["alerts"]["items"] == []


async def test_templates(vigil: RunningVigil) -> None:
    system = token(system="admin")
    point = [{"name": "vigil.process.cpu_percent", "value": 3.0, "tags": {"instance": "a"}}]
    await vigil.ok(CREATE_POINTS, {"p": "system", "points": point}, auth=system)
    query = """mutation { createAlertFromTemplate(project: "system", template: "vigil-cpu",
      params: {percent: 150, for_minutes: 2}) { template rule { metric threshold for } } }"""

    made = (await vigil.ok(query, auth=system))["createAlertFromTemplate"]

    assert made == {
        "template": "vigil-cpu",
        "rule": {"metric": "vigil.process.cpu_percent", "threshold": 150.0, "for": 120.0},
    }
    bad = error(await vigil.gql(query.replace("150", "-1"), auth=system))
    assert bad["extensions"]["code"] == "BAD_USER_INPUT"
    templates = await vigil.ok(
        "{ alertTemplates { name parameters { name default } } }", auth=system
    )
    assert "vigil-cpu" in [t["name"] for t in templates["alertTemplates"]]
