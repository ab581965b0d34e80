"""Dashboards through the real app: CRUD, versions and conflicts, history, duplicate, search,
validation, roles, tenancy, import/export and the built-in system dashboard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.api.dashboards_support import (
    ADMIN,
    CPU_WIDGET,
    CREATE,
    DELETE,
    DOCUMENT,
    EDITOR,
    GET,
    LIST,
    UPDATE,
    VIEWER,
    create,
    error,
    send,
)
from tests.support import RunningVigil, make_settings, serve, token

RESTORE = """mutation($p: String!, $id: ID!, $version: Int!, $v: Int!) {
  restoreDashboard(project: $p, dashboardId: $id, version: $version, expectedVersion: $v) {
    version name widgets { title } } }"""
DUPLICATE = """mutation($p: String!, $id: ID!, $name: String) {
  duplicateDashboard(project: $p, dashboardId: $id, name: $name) {
    id name version widgets { id } } }"""
VERSIONS = """query($p: String!, $id: ID!) { dashboard(project: $p, id: $id) {
  version versions { version name updatedBy } } }"""
EXPORT = "query($p: String!, $id: ID!) { exportDashboard(project: $p, id: $id) }"
IMPORT = """mutation($p: String!, $doc: JSONObject!) {
  importDashboard(project: $p, document: $doc) { id name version createdBy
    widgets { id kind title } } }"""
AUDIT = """query($p: String!) { auditLog(project: $p) { action actor outcome } }"""


@pytest.fixture
async def vigil(tmp_path: Path) -> AsyncIterator[RunningVigil]:
    async with serve(make_settings(tmp_path, alert_tick_seconds=3600)) as running:
        await send(running, ("web-1", 10.0), ("web-2", 20.0))  # cpu exists in demo
        yield running


def renamed(name: str) -> dict[str, Any]:
    return DOCUMENT | {"name": name}


async def test_create_read_update_delete(vigil: RunningVigil) -> None:
    made = await create(vigil)
    assert (made["version"], made["createdBy"], made["updatedBy"]) == (1, "erin", None)
    assert (made["timeRange"], made["refresh"]) == (3600.0, 30.0)
    assert made["variables"] == [{"name": "host", "tag": "host", "metric": "cpu", "default": "*"}]
    kinds = [(w["id"], w["kind"]) for w in made["widgets"]]
    assert kinds == [
        ("w1", "TIMESERIES"),
        ("w2", "STAT"),
        ("w3", "GAUGE"),
        ("w4", "TABLE"),
        ("w5", "ALERT_LIST"),
        ("w6", "TEXT"),
    ]
    cpu = made["widgets"][0]
    assert cpu["layout"] == {"x": 0, "y": 0, "w": 12, "h": 8}
    assert cpu["queries"] == [
        {
            "metric": "cpu",
            "aggregation": "MAX",
            "groupBy": ["host"],
            "step": None,
            "rate": False,
            "label": "",
            "matchers": [{"key": "host", "op": "EQ", "value": "$host"}],
        }
    ]
    assert made["widgets"][1]["thresholds"] == [
        {"value": None, "color": "green"},
        {"value": 80.0, "color": "red"},
    ]
    assert made["widgets"][5]["text"] == "# Runbook\n<script>alert(1)</script>"

    got = await vigil.ok(GET, {"p": "demo", "id": made["id"]}, auth=VIEWER)
    assert got["dashboard"]["name"] == "Web servers"

    changed = await vigil.ok(
        UPDATE, {"p": "demo", "id": made["id"], "v": 1, "d": renamed("Web tier")}, auth=EDITOR
    )
    assert changed["updateDashboard"]["version"] == 2
    assert changed["updateDashboard"]["updatedBy"] == "erin"
    assert changed["updateDashboard"]["name"] == "Web tier"

    assert (await vigil.ok(DELETE, {"p": "demo", "id": made["id"]}, auth=EDITOR))["deleteDashboard"]
    gone = await vigil.gql(GET, {"p": "demo", "id": made["id"]}, auth=EDITOR)
    assert error(gone)["extensions"]["code"] == "NOT_FOUND"


async def test_a_stale_update_is_refused_with_conflict_and_nothing_is_lost(
    vigil: RunningVigil,
) -> None:
    made = await create(vigil)
    first = {"p": "demo", "id": made["id"], "v": 1}
    await vigil.ok(UPDATE, first | {"d": renamed("Alice's change")}, auth=EDITOR)

    stale = await vigil.gql(UPDATE, first | {"d": renamed("Bob's change")}, auth=ADMIN)

    refused = error(stale)
    assert refused["extensions"] == {"code": "CONFLICT", "current_version": 2}
    assert "changed by someone else" in refused["message"]
    kept = await vigil.ok(GET, {"p": "demo", "id": made["id"]}, auth=VIEWER)
    assert (kept["dashboard"]["name"], kept["dashboard"]["version"]) == ("Alice's change", 2)


async def test_history_and_restore(vigil: RunningVigil) -> None:
    made = await create(vigil)
    ids = {"p": "demo", "id": made["id"]}
    await vigil.ok(
        UPDATE, ids | {"v": 1, "d": renamed("Two") | {"widgets": [CPU_WIDGET]}}, auth=EDITOR
    )
    await vigil.ok(UPDATE, ids | {"v": 2, "d": renamed("Three")}, auth=ADMIN)

    history = (await vigil.ok(VERSIONS, ids, auth=VIEWER))["dashboard"]["versions"]
    assert [(v["version"], v["name"], v["updatedBy"]) for v in history] == [
        (3, "Three", "alice"),
        (2, "Two", "erin"),
        (1, "Web servers", None),
    ]

    restored = await vigil.ok(RESTORE, ids | {"version": 2, "v": 3}, auth=EDITOR)
    assert restored["restoreDashboard"] == {
        "version": 4,
        "name": "Two",
        "widgets": [{"title": "CPU"}],
    }
    stale = await vigil.gql(RESTORE, ids | {"version": 1, "v": 3}, auth=EDITOR)
    assert error(stale)["extensions"]["code"] == "CONFLICT"
    missing = await vigil.gql(RESTORE, ids | {"version": 9, "v": 4}, auth=EDITOR)
    assert error(missing)["extensions"]["code"] == "NOT_FOUND"
    old = await vigil.ok(
        """query($p: String!, $id: ID!) {
             dashboard(project: $p, id: $id, version: 1) { name version } }""",
        ids,
        auth=VIEWER,
    )
    assert old["dashboard"] == {"name": "Web servers", "version": 1}


async def test_duplicate_and_search(vigil: RunningVigil) -> None:
    made = await create(vigil)
    await create(vigil, renamed("Databases") | {"description": "postgres and WEB caches"})
    await create(vigil, renamed("Queues") | {"description": "kafka"})

    copy = (await vigil.ok(DUPLICATE, {"p": "demo", "id": made["id"]}, auth=EDITOR))[
        "duplicateDashboard"
    ]
    assert (copy["name"], copy["version"]) == ("Web servers (copy)", 1)
    assert copy["id"] != made["id"] and len(copy["widgets"]) == 6
    named = await vigil.ok(DUPLICATE, {"p": "demo", "id": made["id"], "name": "Mine"}, auth=EDITOR)
    assert named["duplicateDashboard"]["name"] == "Mine"

    async def names(**args: Any) -> list[str]:
        found = await vigil.ok(LIST, {"p": "demo"} | args, auth=VIEWER)
        return [d["name"] for d in found["dashboards"]["items"]]

    assert await names() == ["Databases", "Mine", "Queues", "Web servers", "Web servers (copy)"]
    # "Mine" keeps the description "CPU of the web tier"
    assert await names(search="web") == ["Databases", "Mine", "Web servers", "Web servers (copy)"]
    assert await names(search="serv") == ["Web servers", "Web servers (copy)"]
    assert await names(search="KAFKA") == ["Queues"]
    assert await names(search="nothing") == []
    page = await vigil.ok(LIST, {"p": "demo", "first": 2}, auth=VIEWER)
    assert page["dashboards"]["pageInfo"]["hasNextPage"] is True
    cursor = page["dashboards"]["pageInfo"]["endCursor"]
    assert await names(first=2, after=cursor) == ["Queues", "Web servers"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"queries": [{"metric": "nope"}]}, "unknown metric 'nope'"),
        ({"queries": [{"metric": "cpu", "aggregation": "MEDIAN"}]}, "MEDIAN"),
        ({"layout": {"x": 20, "y": 0, "w": 8, "h": 4}}, "x + w must be at most 24"),
        ({"queries": [{"metric": "cpu", "step": "0s"}]}, "step"),
        (
            {"queries": [{"metric": "cpu", "matchers": [{"key": "h", "value": "$nope"}]}]},
            "$nope is not a variable",
        ),
        (
            {
                "queries": [
                    {"metric": "cpu", "matchers": [{"key": "h", "op": "REGEX", "value": "("}]}
                ]
            },
            "invalid regex",
        ),
        ({"kind": "TEXT", "queries": [{"metric": "cpu"}]}, "a text widget takes no queries"),
        ({"queries": []}, "needs at least one query"),
    ],
)
async def test_a_bad_widget_is_refused_with_a_code_and_nothing_is_saved(
    vigil: RunningVigil, change: dict[str, Any], message: str
) -> None:
    document = DOCUMENT | {"widgets": [CPU_WIDGET | change]}

    body = await vigil.gql(CREATE, {"p": "demo", "d": document}, auth=EDITOR)

    refused = error(body)
    assert refused["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in refused["message"], refused["message"]
    assert (await vigil.ok(LIST, {"p": "demo"}, auth=VIEWER))["dashboards"]["items"] == []


async def test_a_bad_update_changes_nothing(vigil: RunningVigil) -> None:
    made = await create(vigil)
    bad = DOCUMENT | {"widgets": [CPU_WIDGET | {"queries": [{"metric": "typo"}]}]}
    body = await vigil.gql(UPDATE, {"p": "demo", "id": made["id"], "v": 1, "d": bad}, auth=EDITOR)
    assert "widgets[0].queries[0].metric: unknown metric 'typo'" in error(body)["message"]
    kept = await vigil.ok(GET, {"p": "demo", "id": made["id"]}, auth=VIEWER)
    assert kept["dashboard"]["version"] == 1 and len(kept["dashboard"]["widgets"]) == 6


async def test_viewers_read_editors_change_and_everything_is_audited(vigil: RunningVigil) -> None:
    denied = await vigil.gql(CREATE, {"p": "demo", "d": DOCUMENT}, auth=VIEWER)
    assert error(denied)["extensions"]["code"] == "FORBIDDEN"
    made = await create(vigil)
    ids = {"p": "demo", "id": made["id"]}
    for query, variables in (
        (UPDATE, ids | {"v": 1, "d": DOCUMENT}),
        (DELETE, ids),
        (DUPLICATE, ids),
        (RESTORE, ids | {"version": 1, "v": 1}),
        (IMPORT, {"p": "demo", "doc": {"name": "x"}}),
    ):
        body = await vigil.gql(query, variables, auth=VIEWER)
        assert error(body)["extensions"]["code"] == "FORBIDDEN", query
    assert (await vigil.ok(GET, ids, auth=VIEWER))["dashboard"]["version"] == 1
    collector = await vigil.gql(GET, ids, auth=token(demo="collector"))
    assert error(collector)["extensions"]["code"] == "FORBIDDEN"

    await vigil.ok(UPDATE, ids | {"v": 1, "d": DOCUMENT}, auth=EDITOR)
    log = (await vigil.ok(AUDIT, {"p": "demo"}, auth=ADMIN))["auditLog"]
    actions = {(e["action"], e["actor"], e["outcome"]) for e in log}
    assert ("CreateDashboardCommand", "erin", "ok") in actions
    assert ("UpdateDashboardCommand", "erin", "ok") in actions
    assert ("mutation:updateDashboard", "vic", "FORBIDDEN") in actions


async def test_another_projects_dashboard_answers_as_missing(vigil: RunningVigil) -> None:
    made = await create(vigil)
    await send(vigil, ("db-1", 5.0), project="other")
    outsider = token("olga", other="admin")
    ids = {"p": "other", "id": made["id"]}

    for query, variables in (
        (GET, ids),
        (UPDATE, ids | {"v": 1, "d": DOCUMENT}),
        (DELETE, ids),
        (DUPLICATE, ids),
        (EXPORT, ids),
        (RESTORE, ids | {"version": 1, "v": 1}),
    ):
        body = await vigil.gql(query, variables, auth=outsider)
        assert error(body)["extensions"]["code"] == "NOT_FOUND", query
    denied = await vigil.gql(GET, {"p": "demo", "id": made["id"]}, auth=outsider)
    assert error(denied)["extensions"]["code"] == "FORBIDDEN"
    assert (await vigil.ok(LIST, {"p": "other"}, auth=outsider))["dashboards"]["items"] == []


async def test_export_then_import_round_trip(vigil: RunningVigil) -> None:
    made = await create(vigil)
    exported = (await vigil.ok(EXPORT, {"p": "demo", "id": made["id"]}, auth=VIEWER))[
        "exportDashboard"
    ]
    assert exported["format"] == "vigil-dashboard/1"
    text = str(exported)
    for secret in (made["id"], "erin", "demo", "version", "createdBy", "'id'"):
        assert secret not in text, secret
    assert exported["widgets"][0]["queries"][0]["aggregation"] == "max"

    imported = (await vigil.ok(IMPORT, {"p": "demo", "doc": exported}, auth=ADMIN))[
        "importDashboard"
    ]
    assert imported["id"] != made["id"]
    assert (imported["name"], imported["version"], imported["createdBy"]) == (
        "Web servers",
        1,
        "alice",
    )
    again = (await vigil.ok(EXPORT, {"p": "demo", "id": imported["id"]}, auth=VIEWER))[
        "exportDashboard"
    ]
    assert again == exported

    bad = exported | {"widgets": [exported["widgets"][0] | {"kind": "pie"}], "colour": 1}
    body = await vigil.gql(IMPORT, {"p": "demo", "doc": bad}, auth=ADMIN)
    refused = error(body)
    assert refused["extensions"]["code"] == "BAD_USER_INPUT"
    assert "unknown field(s) colour" in refused["message"]
    assert "widgets[0].kind: 'pie' is not one of" in refused["message"]
    assert len(refused["extensions"]["errors"]) == 2
