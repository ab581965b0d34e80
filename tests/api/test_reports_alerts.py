"""ALERTS sections through the real app: what fired over the range, for how long and who
acknowledged it, as the alert's own history tells."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.api.reports_support import (
    ADMIN,
    CREATE_POINTS,
    EDITOR,
    create_report,
    report_input,
    run_now,
)
from tests.support import RunningVigil, make_settings, serve, until

CREATE_ALERT = """mutation($p: String!, $rule: AlertRuleInput!) {
  createAlert(project: $p, rule: $rule) { id } }"""
STATE = """query($p: String!, $id: ID!) { alert(project: $p, id: $id) {
  state history { from to at by } } }"""
INCIDENTS = """query($p: String!) { incidents(project: $p) {
  items { title state openedAt resolvedAt } } }"""
ACK = """mutation($p: String!, $id: ID!) {
  acknowledgeAlert(project: $p, alertId: $id, comment: "on it") { state } }"""
RESOLVE = """mutation($p: String!, $id: ID!) {
  resolveAlert(project: $p, alertId: $id, comment: "fixed") { state } }"""
RULE: dict[str, Any] = {
    "name": "cpu high",
    "metric": "cpu",
    "threshold": 90,
    "aggregation": "LAST",
    "window": "5m",
    "groupBy": ["host"],
}


@pytest.fixture
async def vigil(tmp_path: Path) -> AsyncIterator[RunningVigil]:
    async with serve(make_settings(tmp_path, alert_tick_seconds=3600)) as running:
        yield running


async def _send(vigil: RunningVigil, host: str, value: float) -> None:
    points = [{"name": "cpu", "value": value, "tags": {"host": host}}]
    await vigil.ok(CREATE_POINTS, {"p": "demo", "points": points}, auth=ADMIN)


async def _state(vigil: RunningVigil, alert_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await vigil.ok(STATE, {"p": "demo", "id": alert_id}, auth=ADMIN))[
        "alert"
    ]
    return found


async def test_the_alerts_section_sums_what_fired_and_who_acknowledged(
    vigil: RunningVigil,
) -> None:
    await _send(vigil, "web-1", 10.0)  # the metric exists
    alert_id = (await vigil.ok(CREATE_ALERT, {"p": "demo", "rule": RULE}, auth=ADMIN))[
        "createAlert"
    ]["id"]
    quiet = await vigil.ok(
        CREATE_ALERT, {"p": "demo", "rule": {**RULE, "name": "never", "threshold": 1e9}}, auth=ADMIN
    )
    assert quiet["createAlert"]["id"]
    await _send(vigil, "web-1", 95.0)

    async def firing() -> bool:
        return (await _state(vigil, alert_id))["state"] == "FIRING"

    await until(firing, 10, "the alert fires")
    await vigil.ok(ACK, {"p": "demo", "id": alert_id}, auth=EDITOR)
    await vigil.ok(RESOLVE, {"p": "demo", "id": alert_id}, auth=ADMIN)

    async def incident_resolved() -> bool:  # the incident tracker hears it after the answer
        found = (await vigil.ok(INCIDENTS, {"p": "demo"}, auth=ADMIN))["incidents"]["items"]
        return bool(found) and found[0]["state"] == "RESOLVED"

    await until(incident_resolved, 10, "the alert's incident resolves")

    report = await create_report(
        vigil, report_input(sections=[{"kind": "ALERTS", "title": "What fired"}])
    )
    run = await run_now(vigil, report["id"])
    assert run["status"] == "ok", run["error"]
    body = json.loads((await vigil.http.get(run["downloadUrl"])).content)
    table, incidents = body["sections"]
    assert table["title"] == "What fired"
    assert table["columns"] == [
        "alert",
        "severity",
        "state now",
        "fired",
        "firing seconds",
        "acknowledged by",
    ]
    history = (await _state(vigil, alert_id))["history"]
    at = {t["to"]: datetime.fromisoformat(t["at"]).timestamp() for t in history}
    on_seconds = round(at["RESOLVED"] - at["FIRING"], 1)
    assert table["rows"] == [["cpu high", "critical", "resolved", 1, on_seconds, "erin"]]

    # The incident the alert opened, as `incidents` tells it, in the report's zone.
    (incident,) = (await vigil.ok(INCIDENTS, {"p": "demo"}, auth=ADMIN))["incidents"]["items"]
    assert incidents["title"] == "What fired: incidents"
    assert incidents["columns"] == [
        "incident",
        "state now",
        "opened",
        "resolved",
        "open seconds",
        "alerts",
        "acknowledged by",
    ]
    opened = datetime.fromisoformat(incident["openedAt"])
    resolved = datetime.fromisoformat(incident["resolvedAt"])
    paris = ZoneInfo("Europe/Paris")
    assert incidents["rows"] == [
        [
            incident["title"],
            "resolved",
            opened.astimezone(paris).isoformat(timespec="seconds"),
            resolved.astimezone(paris).isoformat(timespec="seconds"),
            round((resolved - opened).total_seconds(), 1),
            1,
            "erin",
        ]
    ]
